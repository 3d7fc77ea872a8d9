"""Who is acting: a person (or bot identity) and the front end they came through.

An ``Actor`` is what the core records as requester, decider and in the audit log. Its ``id`` is
the identity the four-eyes rule compares, so MCP tokens and the CLI should map to the same ids
Slack uses (``U…`` user ids) for a person to be recognised across front ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = ["ORIGINS", "Actor", "Origin", "parse_actor"]

Origin = Literal["slack", "mcp", "cli"]
ORIGINS: Final[tuple[Origin, ...]] = get_args(Origin)

_VIA: Final[dict[Origin, str]] = {"slack": "", "mcp": " (via assistant)", "cli": " (via CLI)"}


@dataclass(frozen=True)
class Actor:
    """A person or bot identity acting through one front end."""

    id: str
    name: str
    origin: Origin

    @property
    def label(self) -> str:
        """The name as shown to people, saying how they acted: ``Ada (via assistant)``."""
        return f"{self.name}{_VIA[self.origin]}"


def parse_actor(spec: str, origin: Origin) -> Actor:
    """Parse ``U123:Ada Lovelace`` (id and display name) or ``ada`` (the id is also the name).

    Raises ``ValueError`` with a short reason when the spec has no id.
    """
    actor_id, _, name = spec.partition(":")
    actor_id, name = actor_id.strip(), name.strip()
    if not actor_id:
        raise ValueError("the actor id before ':' is empty")
    return Actor(id=actor_id, name=name or actor_id, origin=origin)
