"""Where a request's approval card is in Slack, as the opaque ``card_ref`` the core stores for us.

The Slack notifier writes ``"<channel> <ts>"`` (migration 0002 wrote the same from the old columns);
only this module reads or writes that format.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alm_bot.store import ApprovalRequest

__all__ = ["CardLocation", "card_location", "card_ref"]

_SEPARATOR: Final = " "


@dataclass(frozen=True)
class CardLocation:
    channel: str
    ts: str


def card_ref(channel: str, ts: str) -> str:
    return f"{channel}{_SEPARATOR}{ts}"


def card_location(request: ApprovalRequest | None) -> CardLocation | None:
    """The card's channel and message ts, once it has been posted; None before."""
    if request is None or not request.card_ref:
        return None
    channel, _, ts = request.card_ref.partition(_SEPARATOR)
    return CardLocation(channel, ts) if channel and ts else None
