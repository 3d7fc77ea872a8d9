"""Approver user groups: which of the configured groups a Slack user belongs to.

Members come from ``usergroups.users.list``, cached for a few minutes per group. A group that
cannot be resolved counts as "not a member" (logged) — a Slack outage must never approve by
accident — and is retried at the next click instead of being cached.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Final

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.slack.expiring import Expiring

__all__ = ["ApproverGroups"]

log = logging.getLogger("alm_bot.slack.groups")

_TTL_SECONDS: Final = 300.0


class ApproverGroups:
    """Resolves membership of the configured approver groups."""

    def __init__(
        self,
        client: AsyncWebClient,
        group_ids: Sequence[str],
        *,
        ttl_seconds: float = _TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._group_ids = tuple(group_ids)
        self._members: Expiring[str, frozenset[str]] = Expiring(ttl_seconds, clock)

    async def memberships(self, user_id: str) -> frozenset[str]:
        """The configured approver groups ``user_id`` is a member of (empty if none or unknown)."""
        return frozenset([g for g in self._group_ids if user_id in await self._members_of(g)])

    async def _members_of(self, group_id: str) -> frozenset[str]:
        cached = self._members.get(group_id)
        if cached is not None:
            return cached
        try:
            response = await self._client.usergroups_users_list(usergroup=group_id)
        except (SlackApiError, SlackClientError, ClientError, OSError) as exc:
            log.warning("cannot resolve approver group %s, treating as not a member: %s", group_id, exc)
            return frozenset()
        members = frozenset(str(u) for u in response.get("users") or [])
        self._members.put(group_id, members)
        return members
