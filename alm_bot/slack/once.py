"""Posting a notice effectively once: ask Slack before posting again what may already be there.

The watcher delivers at least once: a notice whose earlier attempt died with the process, or timed
out, after Slack may have received it, comes back. Before posting such a notice again, `NoticePoster`
finds out whether Slack has it:

- every message it posts carries Slack message metadata — event type `NOTICE_EVENT`, payload
  ``{"dedupe_key": <the outbox row's dedupe key>}``;
- the start of each attempt is recorded before the call (`alm_bot.store.attempts`), so after a
  restart it is known which attempts' outcome is unknown, and since when;
- such a notice is looked up first — ``conversations.history`` of the channel (or of the DM
  channel), ``conversations.replies`` of the thread for a thread reply — from shortly before the
  earliest unknown attempt on, with ``include_all_metadata``. If it is there, it counts as posted.

This needs the history scopes (``channels:history``, ``groups:history``, ``im:history``). Without
them (an app installed before they were added) the look-up is impossible: that is said once in the
log and the notice is posted again — at least once, as before. Remaining gap: a call that timed out
while Slack was still working on it may land after the look-up found nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.slack.delivery import post
from alm_bot.slack.message import Message
from alm_bot.store import Store
from alm_bot.store.attempts import begin_attempt, settle_attempt

__all__ = ["NOTICE_EVENT", "NoticePoster", "notice_metadata"]

log = logging.getLogger("alm_bot.slack.notifier")

NOTICE_EVENT: Final = "alm_bot_notice"
# Slack's clock and ours differ a little; the window starts this much before the attempt.
_CLOCK_MARGIN: Final = timedelta(minutes=2)
# Slack caps pages at 15 messages (and one call a minute) for apps distributed outside its
# Marketplace since 2025; internal apps get more, but 15 works for both. A 429 propagates: the
# watcher retries after Retry-After, and nothing is re-posted before Slack could be asked.
_PAGE_SIZE: Final = 15
_MAX_PAGES: Final = 20  # 300 messages since the attempt: far more than alm-bot posts in that time


def notice_metadata(dedupe_key: str) -> dict[str, Any]:
    """The Slack message metadata that names the notice a message delivers."""
    return {"event_type": NOTICE_EVENT, "event_payload": {"dedupe_key": dedupe_key}}


class NoticePoster:
    """``chat.postMessage`` for the notices of the outbox, never twice as far as Slack can tell."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._store = store
        self._clock = clock  # the wall clock: it is compared with Slack's message timestamps
        self._warned_scopes: set[str] = set()

    async def post(
        self, notice_id: int, channel: str, message: Message, *, thread_ts: str | None = None
    ) -> str:
        """Post the message of outbox row ``notice_id`` (or find it posted already); returns its ts."""
        attempt = await begin_attempt(self._store, notice_id, self._clock())
        key = attempt.dedupe_key if attempt is not None else f"notice:{notice_id}"
        if attempt is not None and attempt.unknown_since is not None:
            found = await self.find(
                channel, attempt.unknown_since, lambda m: _carries(m, key), thread_ts=thread_ts
            )
            if found is not None:
                log.info("notice %s is in Slack already (ts %s); not posting it again", key, found)
                return found
        try:
            return await post(
                self._client, channel, message, thread_ts=thread_ts, metadata=notice_metadata(key)
            )
        except SlackApiError as exc:
            if attempt is not None and _answered(exc):
                await settle_attempt(self._store, notice_id)  # Slack said no: nothing was posted
            raise

    async def find(
        self,
        channel: str,
        since: datetime,
        matches: Callable[[dict[str, Any]], bool],
        *,
        thread_ts: str | None = None,
    ) -> str | None:
        """The ts of a message in ``channel`` (or the thread) from about ``since`` on that ``matches``.

        None when there is none — or when the app may not read the history (said once in the log).
        """
        window: dict[str, Any] = {
            "channel": channel,
            "oldest": f"{(since - _CLOCK_MARGIN).timestamp():.6f}",
            "inclusive": True,
            "include_all_metadata": True,
            "limit": _PAGE_SIZE,
        }
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            try:
                page = await self._page(window, thread_ts, cursor)
            except SlackApiError as exc:
                if exc.response.get("error") != "missing_scope":
                    raise
                self._warn_missing_scope(str(exc.response.get("needed") or "a history scope"))
                return None
            for message in page.get("messages") or []:
                if isinstance(message, dict) and matches(message):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not page.get("has_more") or cursor is None:
                return None
        log.warning("gave up looking in %s after %d pages; posting again", channel, _MAX_PAGES)
        return None

    async def _page(self, window: dict[str, Any], thread_ts: str | None, cursor: str | None) -> Any:
        arguments = {**window, **({"cursor": cursor} if cursor else {})}
        if thread_ts is not None:
            return (await self._client.conversations_replies(ts=thread_ts, **arguments)).data
        return (await self._client.conversations_history(**arguments)).data

    def _warn_missing_scope(self, scope: str) -> None:
        if scope not in self._warned_scopes:
            self._warned_scopes.add(scope)
            log.warning(
                "Slack refuses to show alm-bot's earlier messages (the app lacks the %s scope; "
                "reinstall it from manifest.yml): a notice whose delivery was interrupted is posted "
                "again and may appear twice",
                scope,
            )


class _Carried(BaseModel):
    """The metadata payload alm-bot's notices carry (`notice_metadata`)."""

    model_config = ConfigDict(strict=True, extra="ignore")
    dedupe_key: str | None = None


class _Metadata(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    event_type: str | None = None
    event_payload: _Carried | None = None


class _Posted(BaseModel):
    """Of a message in Slack's history, only what tells whether it is one of our notices."""

    model_config = ConfigDict(strict=True, extra="ignore")
    metadata: _Metadata | None = None


def _carries(message: dict[str, Any], key: str) -> bool:
    try:
        metadata = _Posted.model_validate(message).metadata
    except ValidationError:  # someone else's metadata, of another shape
        return False
    if metadata is None or metadata.event_type != NOTICE_EVENT or metadata.event_payload is None:
        return False
    return metadata.event_payload.dedupe_key == key


def _answered(exc: SlackApiError) -> bool:
    """Slack answered with a refusal (``ok: false`` or 429), so this call posted nothing.

    A 5xx says less: Slack may have posted the message and failed afterwards.
    """
    status = getattr(exc.response, "status_code", 200)
    return status == 200 or status == 429
