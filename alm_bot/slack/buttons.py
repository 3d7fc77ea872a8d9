"""The Approve / Reject buttons' payload: versioned, holding only the request id.

Everything else a click needs comes from the store, so buttons keep working after a restart, on
another replica, and after the card was re-rendered. An unknown version means the card was drawn
by another alm-bot release: the click is refused with a pointer to ``/alm requests``.
"""

from __future__ import annotations

import json
from typing import Final

from alm_bot.errors import InvalidArgument

__all__ = [
    "APPROVE",
    "OVERRIDE",
    "PAYLOAD_VERSION",
    "REJECT",
    "OutdatedButton",
    "button_value",
    "request_id_of",
]

APPROVE: Final = "alm_approve"
REJECT: Final = "alm_reject"
OVERRIDE: Final = "alm_override"  # run a scheduled request now, outside its change window
PAYLOAD_VERSION: Final = 1


class OutdatedButton(InvalidArgument):
    """A button payload this release cannot read."""

    def __init__(self) -> None:
        super().__init__(
            "button",
            "This button is from an older alm-bot; use /alm requests to find the request and its card.",
        )


def button_value(request_id: str) -> str:
    return json.dumps({"v": PAYLOAD_VERSION, "request": request_id}, separators=(",", ":"))


def request_id_of(value: str | None) -> str:
    """The request id in a button's value, or `OutdatedButton`."""
    try:
        decoded = json.loads(value or "")
    except json.JSONDecodeError:
        raise OutdatedButton() from None
    if not isinstance(decoded, dict) or decoded.get("v") != PAYLOAD_VERSION:
        raise OutdatedButton()
    request_id = decoded.get("request")
    if not isinstance(request_id, str) or not request_id:
        raise OutdatedButton()
    return request_id
