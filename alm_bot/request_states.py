"""The names of a request's states: the one list, light enough for any layer to import.

The state machine itself (which state may follow which) is the store's (`alm_bot.store.states`);
this module holds only the names, with no imports of alm-bot, so that the MCP server — which must
not load the store before its first tool call — words its inputs and outputs with the same list.
"""

from __future__ import annotations

from typing import Final, Literal, get_args

__all__ = ["REQUEST_STATES", "RequestState"]

RequestState = Literal[
    "requested",
    "pending",
    "approved",
    "scheduled",
    "executing",
    "succeeded",
    "failed",
    "rejected",
    "expired",
    "cancelled",
]
REQUEST_STATES: Final[tuple[RequestState, ...]] = get_args(RequestState)
