"""Old entry point of the Slack scenario tests, kept while branches still import it: `tests.world`.

`open_stack` is `open_world` (the same options), `SlackStack` is `World`; Slack requests are
dispatched in-process now. New tests use the ``world`` fixture and import from `tests.world`.
"""

from __future__ import annotations

from tests.world import (
    APPROVALS,
    APPROVER,
    BOT_TOKEN,
    OUTSIDER,
    REQUESTER,
    SECOND_APPROVER,
    SECRET,
    WAIT,
    button_values,
    card_payload,
    text_of,
)
from tests.world import Clock as StackClock
from tests.world import World as SlackStack
from tests.world import open_world as open_stack

__all__ = [
    "APPROVALS",
    "APPROVER",
    "BOT_TOKEN",
    "OUTSIDER",
    "REQUESTER",
    "SECOND_APPROVER",
    "SECRET",
    "WAIT",
    "SlackStack",
    "StackClock",
    "button_values",
    "card_payload",
    "open_stack",
    "text_of",
]
