"""``[releases.<name>]``: named release groups — one source into targets, wave by wave.

::

    [releases.fpa]
    source = "dev"                                # the model whose revision ships
    waves = [["test"], ["prod-emea", "prod-apac"]]  # in order; targets of a wave run in parallel
    on_failure = "stop"                           # "stop": a failed target stops later waves; "continue"

Each front end ships a group by its name (Slack's release command, ``alm_request_release(source="fpa")``,
``alm-bot requests release fpa``).
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ReleaseConfig"]


class ReleaseConfig(BaseModel):
    """One named release group, checked when the file is read."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str = Field(min_length=1)
    waves: tuple[tuple[str, ...], ...] = Field(min_length=1)
    on_failure: Literal["stop", "continue"] = "stop"

    @model_validator(mode="after")
    def _targets_once_and_not_the_source(self) -> Self:
        seen: list[str] = []
        for number, wave in enumerate(self.waves, start=1):
            if not wave:
                raise ValueError(f"wave {number} is empty: give it at least one target, or remove it")
            for target in wave:
                if target.casefold() == self.source.casefold():
                    raise ValueError(f"wave {number} names the source {target!r} as a target")
                if target.casefold() in seen:
                    raise ValueError(f"{target!r} is named twice: a target is synced once per release")
                seen.append(target.casefold())
        return self

    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(target for wave in self.waves for target in wave)
