"""The very edge: what a listener does with a bug (anything that is not an `AlmBotError`).

Listeners catch `AlmBotError` themselves and show its sentence. Anything else is a bug: it is logged
with its traceback under a short reference, and the person reads "something went wrong (ref …)" —
never a traceback. Bolt has two moments, so there are two catchers:

- before the acknowledgement, Bolt's error handler (`report_before_ack`) answers with an apology
  instead of a 500;
- after it, `after_ack` runs the rest of the listener and keeps the exception from Bolt, which
  (1.30) would otherwise drop the acknowledgement it already holds, so Slack would see a timeout.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.response import BoltResponse

from alm_bot.slack.message import Message, section

__all__ = ["Apologise", "after_ack", "apology", "report_before_ack"]

log = logging.getLogger("alm_bot.slack")

Apologise = Callable[[Message], Awaitable[object]]


def apology(ref: str) -> Message:
    text = (
        f"Sorry, something went wrong (ref {ref}). Please try again; "
        "if it keeps happening, tell your alm-bot admin the reference."
    )
    return Message(text, (section(text),))


async def after_ack(work: Awaitable[None], apologise: Apologise | None) -> None:
    """Run the part of a listener that comes after ``ack()``; a bug is logged and apologised for."""
    try:
        await work
    except Exception as bug:
        ref = _record(bug)
        if apologise is None:
            return
        try:
            await apologise(apology(ref))
        except Exception:
            log.warning("could not tell the user about ref %s", ref, exc_info=True)


async def report_before_ack(
    error: Exception, body: dict[str, Any], response: BoltResponse | None
) -> BoltResponse | None:
    """Bolt's error handler: a bug before ``ack()`` becomes an acknowledgement that apologises."""
    ref = _record(error)
    if response is None:  # already acknowledged; after_ack normally catches these first
        return None
    return BoltResponse(status=200, body=_acknowledgement(body, apology(ref)))


def _record(bug: BaseException) -> str:
    ref = secrets.token_hex(4)
    log.error("unexpected error in a Slack listener (ref %s)", ref, exc_info=bug)
    return ref


def _acknowledgement(body: dict[str, Any], message: Message) -> dict[str, Any]:
    """A form shows the apology on its first field; anything else gets a private message."""
    if body.get("type") == "view_submission":
        fields = list(body.get("view", {}).get("state", {}).get("values", {}))
        if fields:
            return {"response_action": "errors", "errors": {fields[0]: message.text}}
        return {"response_action": "clear"}
    return {"response_type": "ephemeral", "text": message.text}
