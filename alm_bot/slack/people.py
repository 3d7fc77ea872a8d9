"""Display names of Slack users (``users.info``), cached: the name the core records for an Actor.

Cards mention people with ``<@U…>`` (Slack renders the current name); the stored name is for the
audit log, the CLI and MCP. A lookup that fails falls back to the name Slack sent with the request
— a missing display name must never stop an approval.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Final

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.actor import Actor
from alm_bot.slack.expiring import Expiring

__all__ = ["People"]

log = logging.getLogger("alm_bot.slack.people")

_TTL_SECONDS: Final = 3600.0


class People:
    """Names of Slack users, looked up once an hour at most."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl_seconds: float = _TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._names: Expiring[str, str] = Expiring(ttl_seconds, clock)

    async def actor(self, user_id: str, fallback_name: str | None = None) -> Actor:
        """The Slack user as the core's Actor."""
        return Actor(id=user_id, name=await self.name(user_id, fallback_name), origin="slack")

    async def name(self, user_id: str, fallback_name: str | None = None) -> str:
        cached = self._names.get(user_id)
        if cached is not None:
            return cached
        try:
            response = await self._client.users_info(user=user_id)
        except (SlackApiError, SlackClientError, ClientError, OSError) as exc:
            log.warning("users.info for %s failed, using %r: %s", user_id, fallback_name or user_id, exc)
            return fallback_name or user_id
        name = _display_name(response.get("user") or {}) or fallback_name or user_id
        self._names.put(user_id, name)
        return name


def _display_name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    for candidate in (
        profile.get("display_name"),
        profile.get("real_name"),
        user.get("real_name"),
        user.get("name"),
    ):
        if isinstance(candidate, str) and candidate.strip():
            return candidate.strip()
    return ""
