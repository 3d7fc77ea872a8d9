"""The data-loss radar's verdict for an AI assistant: `RiskOut` (``alm_get_request``'s ``risk``).

The MCP layer's own shape of `alm_bot.radar.Risk`, each field described for the assistant.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["FindingOut", "RiskOut"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class FindingOut(_Out):
    """One reason for the radar's verdict."""

    verdict: Literal["safe", "review", "unknown", "data-loss"]
    rule: str = Field(description="The radar rule that matched, e.g. line-item-deleted.")
    category: str
    object: str = Field(description="The model object it is about.")
    module: str | None = None
    reason: str = Field(
        description="One plain sentence, e.g. 'Line item X in M is deleted: its data is lost'."
    )


class RiskOut(_Out):
    """The data-loss radar's verdict on a sync plan."""

    verdict: Literal["safe", "review", "unknown", "data-loss"] = Field(
        description="safe: nothing loses data; review: look first; unknown: not all could be read, so not "
        "safe; data-loss: the sync destroys data in the target (approving it needs a confirmation in Slack)."
    )
    findings: list[FindingOut] = Field(description="The most severe first.")
    omitted: int = Field(default=0, description="Further findings left out of the stored verdict.")
