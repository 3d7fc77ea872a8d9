"""Uploading the comparison report to Slack effectively once, like every other notice.

A file share carries no message metadata, so `NoticePoster`'s look-up by dedupe key cannot find it.
The upload is therefore done in Slack's three steps, and the file's id is remembered in between:

1. ``files.getUploadURLExternal`` hands out a file id and an upload URL;
2. the id is recorded on the outbox row (`alm_bot.store.attempts.note_upload`) and the bytes are
   sent to the URL — nothing is visible in Slack yet;
3. ``files.completeUploadExternal`` shares the file in the channel, with the message text as its
   comment. Only this step makes anything appear.

An attempt whose outcome is unknown (the process died, a call timed out) is followed by one that
first looks in the channel's history, from shortly before the earliest unknown attempt on, for a
message sharing one of the recorded file ids; if there is one, the report counts as posted. A
file whose upload was interrupted before step 3 was never shared: nobody sees it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx2
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.slack.once import NoticePoster
from alm_bot.store import Store
from alm_bot.store.attempts import begin_attempt, note_upload

__all__ = ["ReportUploader"]

log = logging.getLogger("alm_bot.slack.notifier")

_UPLOAD_TIMEOUT_SECONDS = 60.0


class ReportUploader:
    """Shares a text file in a channel, never twice as far as Slack can tell."""

    def __init__(
        self,
        client: AsyncWebClient,
        store: Store,
        poster: NoticePoster,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = client
        self._store = store
        self._poster = poster  # its history look-up, with the scopes and paging it knows
        self._clock = clock

    async def upload(
        self, notice_id: int, channel: str, content: bytes, *, filename: str, title: str, comment: str
    ) -> None:
        """Share ``content`` as ``filename`` in ``channel`` for row ``notice_id``, or find it shared."""
        attempt = await begin_attempt(self._store, notice_id, self._clock())
        if attempt is not None and attempt.unknown_since is not None and attempt.uploads:
            ids = set(attempt.uploads)
            found = await self._poster.find(channel, attempt.unknown_since, lambda m: _shares(m, ids))
            if found is not None:
                log.info("report of notice %s is in Slack already (ts %s); not again", notice_id, found)
                return
        data = content
        issued = await self._client.files_getUploadURLExternal(filename=filename, length=len(data))
        file_id, url = str(issued["file_id"]), str(issued["upload_url"])
        if attempt is not None:
            await note_upload(self._store, notice_id, file_id)
        async with httpx2.AsyncClient(timeout=_UPLOAD_TIMEOUT_SECONDS) as http:
            sent = await http.post(url, content=data)
        if sent.status_code != 200:
            raise RuntimeError(f"Slack's upload URL answered {sent.status_code}: {sent.text[:200]}")
        await self._client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title}], channel_id=channel, initial_comment=comment
        )


def _shares(message: dict[str, Any], file_ids: set[str]) -> bool:
    files = message.get("files")
    return isinstance(files, list) and any(isinstance(f, dict) and f.get("id") in file_ids for f in files)
