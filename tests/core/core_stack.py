"""The core wired for tests: sandbox tenant, real store (SQLite file or PostgreSQL), movable clock.

Nothing of ours is replaced. The only test double is `RecordingNotifier`, a plain implementation
of the `Notifier` protocol (the seam the Slack front end plugs into), which records what it was
asked to deliver and can be told to fail.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from alm_bot.actor import Actor
from alm_bot.config import load_settings
from alm_bot.notify import DeliveryReceipt, Notice
from alm_bot.sandbox import Sandbox
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.watcher import Watcher

ADA = Actor("U0REQUESTER", "Ada", "slack")
APPROVER = Actor("U0APPROVER1", "Grace", "slack")
OTHER_APPROVER = Actor("U0APPROVER2", "Linus", "slack")
STRANGER = Actor("U0STRANGER", "Mallory", "slack")


class MovableClock:
    """UTC 'now' that tests move forward; starts at the real time so the sandbox agrees with it."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class RecordingNotifier:
    """Records notices; fails the next `fail_times` deliveries to show that retries work."""

    delivered: list[Notice] = field(default_factory=list)
    attempts: int = 0
    fail_times: int = 0

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("Slack is down")
        self.delivered.append(notice)
        if notice.kind == "approval_needed":
            return DeliveryReceipt(card_ref=f"C0APPROVALS 1700000000.{notice.id:06d}")
        return None

    def kinds(self, destination: str | None = None) -> list[str]:
        return [n.kind for n in self.delivered if destination is None or n.destination == destination]


@dataclass
class CoreStack:
    services: Services
    sandbox: Sandbox
    clock: MovableClock
    notifier: RecordingNotifier

    @property
    def ops(self) -> Any:
        return self.services.ops

    def new_watcher(self, **options: Any) -> Watcher:
        """A watcher with its own lease owner, as a second process (or a restarted one) would have."""
        return Watcher(self.services.ops.watching, self.notifier, clock=self.clock, **options)

    @property
    def watcher(self) -> Watcher:
        assert self.services.watcher is not None
        return self.services.watcher

    def sync_posts(self) -> int:
        return sum(
            1 for e in self.sandbox.request_log if e.method == "POST" and e.path.endswith("/syncTasks")
        )

    async def settle(self, ticks: int = 5) -> None:
        """Let sandbox tasks finish and tick the watcher until nothing is left to do (bounded)."""
        for _ in range(ticks):
            self.sandbox.advance(60)
            self.clock.advance(60)
            await self.watcher.tick()


@asynccontextmanager
async def open_core(
    database_url: str, *, task_duration: float = 0.0, config: dict[str, Any] | None = None
) -> AsyncIterator[CoreStack]:
    sandbox = Sandbox(task_duration=task_duration, rate_limit_per_second=None)
    clock = MovableClock()
    defaults = sandbox_defaults()
    for section, values in (config or {}).items():
        # A table adds to the sandbox's; a list (``windows``) replaces it.
        defaults[section] = {**defaults.get(section, {}), **values} if isinstance(values, dict) else values
    settings = load_settings(env={"ALM_BOT_DATABASE_URL": database_url}, defaults=defaults)
    notifier = RecordingNotifier()
    async with open_services(settings, sandbox=sandbox, clock=clock) as services:
        services.start_watcher(notifier)
        yield CoreStack(services, sandbox, clock, notifier)
