"""Watcher figures: passes, and a notice whose lease another watcher took over while this one was paused."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from alm_bot.metrics import Metrics
from alm_bot.notify import DeliveryReceipt, Notice
from tests.world import ADA, open_world

pytestmark = pytest.mark.anyio


class PausedNotifier:
    """Delivers only once told to: the process stalls mid-delivery (a long GC pause, a frozen VM)."""

    def __init__(self) -> None:
        self.started = anyio.Event()
        self.go_on = anyio.Event()

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        self.started.set()
        await self.go_on.wait()
        return None


def counted(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_a_lease_taken_over_while_the_watcher_was_paused_is_counted(tmp_path: Path) -> None:
    async with open_world(tmp_path, slack=False) as core:
        # unprotected: runs at once, one DM queued
        await core.ops.requests.request_sync("dev", "test", actor=ADA)
        paused = PausedNotifier()
        stalled = core.new_watcher(batch=1)
        stalled.notifier = paused
        metrics = Metrics(core.services)
        stalled.observer = metrics
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(stalled.tick)
            with anyio.fail_after(10):
                await paused.started.wait()
            core.clock.advance(600)  # past the stalled watcher's lease
            await core.watcher.tick()  # another watcher delivers the same notice
            paused.go_on.set()

    figures = counted(metrics)
    assert figures[("alm_bot_watcher_lease_steals_total", (("queue", "outbox"),))] == 1
    assert figures[("alm_bot_watcher_ticks_total", ())] == 1
