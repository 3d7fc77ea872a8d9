"""Old entry point of the core tests, kept while branches still import it: use `tests.world`.

`open_core(database_url)` is ``open_world(database_url=..., slack=False)``; `CoreStack` is a `World`
whose ``settle(ticks)`` is `World.pass_time` (move the clocks a minute, tick the watcher, ``ticks`` times).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from alm_bot.actor import Actor
from tests.world import Clock as MovableClock
from tests.world import RecordingNotifier, World, open_world

__all__ = ["ADA", "APPROVER", "OTHER_APPROVER", "STRANGER", "CoreStack", "MovableClock", "RecordingNotifier"]

ADA = Actor("U0REQUESTER", "Ada", "slack")
APPROVER = Actor("U0APPROVER1", "Grace", "slack")
OTHER_APPROVER = Actor("U0APPROVER2", "Linus", "slack")
STRANGER = Actor("U0STRANGER", "Mallory", "slack")


class CoreStack(World):
    async def settle(self, ticks: int = 5) -> None:  # type: ignore[override]
        await self.pass_time(ticks)


@asynccontextmanager
async def open_core(
    database_url: str, *, task_duration: float = 0.0, config: dict[str, Any] | None = None
) -> AsyncIterator[CoreStack]:
    async with open_world(
        database_url=database_url, slack=False, task_duration=task_duration, config=config
    ) as world:
        yield CoreStack(world.services, world.sandbox, world.clock, world.notifier)
