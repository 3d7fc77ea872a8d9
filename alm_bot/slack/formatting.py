"""Slack text formatting: escaping, mentions, dates and length limits for mrkdwn and plain text.

Everything a person or Anaplan typed (model names like ``FP&A PROD``, revision descriptions,
rejection reasons) passes through :func:`escape` before it lands in mrkdwn, so it can neither break
the markup nor ping ``<!channel>``. Dates are rendered with Slack's ``<!date^…>`` token, so every
reader sees them in their own time zone.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

__all__ = [
    "SECTION_TEXT_LIMIT",
    "clip",
    "code",
    "escape",
    "is_slack_user",
    "person",
    "plural",
    "when",
]

SECTION_TEXT_LIMIT: Final = 3000  # Slack's limit for a section's text
_SLACK_USER: Final = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str) -> str:
    """Inline code, for ids and aliases people copy into the next command."""
    return "`" + escape(text.replace("`", "'")) + "`"


def clip(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def is_slack_user(user_id: str) -> bool:
    """True for a Slack user id (``U…``/``W…``); a CLI or pipeline requester has none."""
    return bool(_SLACK_USER.match(user_id))


def person(user_id: str | None, name: str | None = None) -> str:
    """A mention for Slack user ids (Slack shows their current name); the escaped name otherwise."""
    if user_id and _SLACK_USER.match(user_id):
        return f"<@{user_id}>"
    return escape(name or user_id or "someone")


def when(moment: datetime) -> str:
    """A date each reader sees in their own time zone, with a UTC fallback for old clients."""
    if moment.tzinfo is None:  # the database hands back naive datetimes; they are UTC
        moment = moment.replace(tzinfo=UTC)
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"
