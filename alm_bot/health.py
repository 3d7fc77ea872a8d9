"""``GET /healthz``: what each part of serve says, within a few seconds whatever the parts do.

Every check runs at the same time under its own short timeout; a part that does not answer in time
reads ``timeout`` (Anaplan's login and the database keep their own, longer timeouts for real work).
The answer is one of:

- ``ok`` (200) — everything answers (``slack: off`` included: Slack is not configured);
- ``degraded`` (200) — serve works but Slack does not (down, refused configuration, or notices it
  keeps refusing). Restarting would not mend Slack, and MCP-only use is unaffected, so an
  orchestrator should not restart serve for it;
- ``unhealthy`` (503) — the database, Anaplan's login or the watcher does not work.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Protocol

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse

from alm_bot.errors import AlmBotError, StoreUnavailable
from alm_bot.services import Services
from alm_bot.store import OutboxRow, Store

__all__ = ["Health", "HealthTimeouts", "SlackStatus", "refused_notices", "refused_rows"]

_ANAPLAN_CHECK_SECONDS: Final = 60.0
_WATCHER_STALE_SECONDS: Final = 30.0
_REFUSED_AFTER_ATTEMPTS: Final = 3  # a notice failing this often is refused, not unlucky
_ESSENTIAL: Final = ("database", "anaplan", "watcher")


class SlackStatus(Protocol):
    """What health reads of the Slack link (`alm_bot.slack.link.SlackLink`): its state, as text."""

    @property
    def state(self) -> object: ...


@dataclass(frozen=True)
class HealthTimeouts:
    """Seconds each check may take; together well under the 5 s a probe allows (they run at once)."""

    database: float = 2.0
    anaplan: float = 3.0
    notices: float = 2.0


class Health:
    """The ``/healthz`` endpoint over the services and, when Slack is configured, its link."""

    def __init__(
        self,
        services: Services,
        slack: SlackStatus | None = None,
        timeouts: HealthTimeouts = HealthTimeouts(),
    ) -> None:
        self._services = services
        self._slack = slack
        self._timeouts = timeouts
        self._anaplan: tuple[float, str] | None = None

    async def respond(self, request: Request) -> JSONResponse:
        checks = await self.checks()
        status = _overall(checks)
        return JSONResponse({"status": status, **checks}, status_code=503 if status == "unhealthy" else 200)

    async def checks(self) -> dict[str, str]:
        """Every check's verdict, gathered concurrently."""
        verdicts: dict[str, str] = {"watcher": self._watcher()}
        slow: dict[str, tuple[float, Callable[[], Awaitable[str]]]] = {
            "database": (self._timeouts.database, self._database),
            "anaplan": (self._timeouts.anaplan, self._anaplan_login),
        }
        if self._slack is None:
            verdicts["slack"] = "off"
        else:
            verdicts["slack"] = str(self._slack.state)
            slow["notices"] = (self._timeouts.notices, self._notices)

        async def run(name: str, limit: float, check: Callable[[], Awaitable[str]]) -> None:
            verdicts[name] = "timeout"
            with anyio.move_on_after(limit):
                verdicts[name] = await check()

        async with anyio.create_task_group() as tg:
            for name, (limit, check) in slow.items():
                tg.start_soon(run, name, limit, check)
        order = ("database", "anaplan", "watcher", "slack", "notices")
        return {name: verdicts[name] for name in order if name in verdicts}

    async def _database(self) -> str:
        try:
            await self._services.store.ping()
        except ConnectionError as exc:
            return f"error: {exc}"
        return "ok"

    async def _anaplan_login(self) -> str:
        now = time.monotonic()
        if self._anaplan is None or now - self._anaplan[0] > _ANAPLAN_CHECK_SECONDS:
            verdict = "timeout"  # kept if the check is cancelled: the next probe tries again
            self._anaplan = None
            try:
                await self._services.client.login()
                verdict = "ok"
            except AlmBotError as exc:
                verdict = f"error: {exc}"
            self._anaplan = (now, verdict)
        return self._anaplan[1]

    def _watcher(self) -> str:
        watcher = self._services.watcher
        if watcher is None or watcher.heartbeat is None:
            return "starting"
        age = time.monotonic() - watcher.heartbeat
        return "ok" if age < _WATCHER_STALE_SECONDS else f"error: last pass {age:.0f}s ago"

    async def _notices(self) -> str:
        try:
            count, oldest = await refused_notices(self._services, self._services.ops.clock())
        except StoreUnavailable:
            return "unknown (database)"
        if not count:
            return "ok"
        return f"degraded: {count} notice(s) Slack keeps refusing, oldest {_age(oldest)} old"


async def refused_rows(store: Store) -> list[OutboxRow]:
    """Undelivered notices whose delivery failed often enough to call them refused."""
    rows = await store.list_outbox(sent=False, limit=1000)
    return [row for row in rows if row.attempts >= _REFUSED_AFTER_ATTEMPTS]


async def refused_notices(services: Services, now: datetime) -> tuple[int, float]:
    """How many undelivered notices Slack refused repeatedly, and the oldest one's age in seconds."""
    refused = await refused_rows(services.store)
    if not refused:
        return 0, 0.0
    oldest = min(row.created_at for row in refused)
    return len(refused), max(0.0, (now - oldest).total_seconds())


def _age(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.0f}h"


def _overall(checks: dict[str, str]) -> str:
    if any(checks.get(name) != "ok" for name in _ESSENTIAL):
        return "unhealthy"
    if any(value not in ("ok", "off") for value in checks.values()):
        return "degraded"
    return "ok"
