"""Notices Slack keeps refusing are not left unseen: people are told, once, through another way.

`RefusalWatch.run()` is one of serve's background tasks (with Slack configured). Now and then it
reads the outbox for notices that failed at least three times (the same count ``/healthz`` calls
"degraded"). While some are refused:

- when the approvals channel is the problem (a card or a thread reply refused, e.g. the bot was
  removed: ``not_in_channel``), each affected requester gets one DM: their request's card cannot
  be shown to the approvers;

and once none is refused any more, the approvals channel gets one message: how many notices Slack
refused and for how long, and that they have now been delivered.

Both go through the outbox with dedupe keys (one per request, one per episode, named by the first
refused notice), so replicas and restarts tell each person once.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Final

import anyio

from alm_bot.health import refused_rows
from alm_bot.notify import APPROVALS, CARD, user_destination
from alm_bot.services import Services
from alm_bot.store import OutboxRow

__all__ = ["CARD_REFUSED", "NOTICES_RECOVERED", "RefusalWatch"]

log = logging.getLogger("alm_bot.slack.refusals")

NOTICES_RECOVERED: Final = "notices_recovered"
CARD_REFUSED: Final = "card_refused"
_SLACK_ERROR = re.compile(r"'error': '([a-z_]+)'")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


class RefusalWatch:
    """See the module docstring; ``every`` is the seconds between two looks at the outbox."""

    def __init__(self, services: Services, *, every: float = 10.0) -> None:
        self._services = services
        self._every = every
        self._first: OutboxRow | None = None  # the oldest refused notice of the current episode
        self._peak = 0

    async def run(self) -> None:
        while True:
            await self.look()
            await anyio.sleep(self._every)

    async def look(self) -> None:
        """One look at the outbox: start, follow or end an episode of refusals."""
        refused = await refused_rows(self._services.store)
        if refused:
            if self._first is None:
                self._first = min(refused, key=lambda row: row.created_at)
                log.warning("Slack keeps refusing %d notice(s): %s", len(refused), _error_of(self._first))
            self._peak = max(self._peak, len(refused))
            await self._tell_requesters([row for row in refused if row.destination in (APPROVALS, CARD)])
        elif self._first is not None:
            await self._tell_channel(self._first, self._peak)
            log.info("Slack accepts notices again (%d were held back)", self._peak)
            self._first, self._peak = None, 0

    async def _tell_requesters(self, rows: list[OutboxRow]) -> None:
        request_ids = {str(row.payload.get("request_id")) for row in rows if row.payload.get("request_id")}
        if not request_ids:
            return
        store = self._services.store
        async with store.transaction() as tx:
            for request_id in sorted(request_ids):
                request = await tx.get_request(request_id)
                if request is None or not _SLACK_USER.match(request.requester_id):
                    continue
                error = next(_error_of(r) for r in rows if r.payload.get("request_id") == request_id)
                await tx.enqueue(
                    CARD_REFUSED,
                    user_destination(request.requester_id),
                    {"request_id": request_id, "error": error},
                    f"{CARD_REFUSED}:{request_id}",
                )
        self._services.ops.changes.publish()

    async def _tell_channel(self, first: OutboxRow, count: int) -> None:
        now = self._services.ops.clock()
        payload = {
            "count": count,
            "since": _iso(first.created_at),
            "until": _iso(now),
            "error": _error_of(first),
        }
        async with self._services.store.transaction() as tx:
            await tx.enqueue(NOTICES_RECOVERED, APPROVALS, payload, f"{NOTICES_RECOVERED}:{first.id}")
        self._services.ops.changes.publish()


def _error_of(row: OutboxRow) -> str:
    """Slack's error code from the row's last failure (``not_in_channel``), or a short description."""
    text = row.last_error or ""
    found = _SLACK_ERROR.search(text)
    return found.group(1) if found else (text.split(":", 1)[0] or "refused")


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
