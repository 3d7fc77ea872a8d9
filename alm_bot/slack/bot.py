"""What every Slack listener needs from the rest of alm-bot, in one object built once per app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.operations import Operations
from alm_bot.slack.groups import ApproverGroups
from alm_bot.slack.people import People

__all__ = ["Bot"]


@dataclass(frozen=True)
class Bot:
    """The core's operations and settings, plus the Slack lookups the listeners share (cached)."""

    ops: Operations
    settings: Settings
    people: People
    groups: ApproverGroups

    async def actor(self, user: dict[str, Any] | None, user_id: str | None = None) -> Actor:
        """The Actor for a Slack user, from a payload's ``user`` object or a bare id."""
        user = user or {}
        uid = user_id or user.get("id") or ""
        return await self.people.actor(uid, user.get("name") or user.get("username"))
