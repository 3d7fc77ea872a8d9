"""Who is acting: a person (or bot identity) and the front end they came through.

An ``Actor`` is what the core records as requester, decider and in the audit log. Its ``id`` is
the identity the four-eyes rule compares, so MCP tokens and the CLI should map to the same ids
Slack uses (``U…`` user ids) for a person to be recognised across front ends.

The CLI's ``--as`` is a claim nobody verified: a CLI actor carries ``run_by`` (the OS user and host
that ran the command), and a decision it takes is *break-glass* — recorded with who ran it
(`break_glass_name`), so the card, the audit and the approvals channel can say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, get_args

__all__ = ["ORIGINS", "Actor", "Origin", "break_glass_by", "parse_actor"]

Origin = Literal["slack", "mcp", "cli"]
ORIGINS: Final[tuple[Origin, ...]] = get_args(Origin)

_VIA: Final[dict[Origin, str]] = {"slack": "", "mcp": " (via assistant)", "cli": " (via CLI)"}
_BREAK_GLASS: Final = " [break-glass, run by "


@dataclass(frozen=True)
class Actor:
    """A person or bot identity acting through one front end."""

    id: str
    name: str
    origin: Origin
    run_by: str | None = None  # CLI only: the OS user and host that ran the command

    @property
    def break_glass(self) -> bool:
        """A decision by this actor bypasses Slack (the CLI): it is marked and announced."""
        return self.origin == "cli"

    @property
    def decider_name(self) -> str:
        """The name a decision records: break-glass decisions say who really ran the command."""
        if not self.break_glass:
            return self.name
        return f"{self.name}{_BREAK_GLASS}{self.run_by or 'unknown'}]"

    @property
    def label(self) -> str:
        """The name as shown to people, saying how they acted: ``Ada (via assistant)``."""
        return f"{self.name}{_VIA[self.origin]}"


def break_glass_by(decided_by_name: str | None) -> str | None:
    """Who ran a break-glass decision (``ada@build-7``), from its recorded name; None otherwise."""
    if not decided_by_name or _BREAK_GLASS not in decided_by_name:
        return None
    return decided_by_name.rsplit(_BREAK_GLASS, 1)[1].removesuffix("]")


def parse_actor(spec: str, origin: Origin) -> Actor:
    """Parse ``U123:Ada Lovelace`` (id and display name) or ``ada`` (the id is also the name).

    Raises ``ValueError`` with a short reason when the spec has no id.
    """
    actor_id, _, name = spec.partition(":")
    actor_id, name = actor_id.strip(), name.strip()
    if not actor_id:
        raise ValueError("the actor id before ':' is empty")
    return Actor(id=actor_id, name=name or actor_id, origin=origin)
