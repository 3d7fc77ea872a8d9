"""The store reads behind ``alm-bot stats`` and ``/metrics``, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alm_bot.metrics_store import StoreFigures
from alm_bot.records import RequestUpdated, TaskOutcome
from alm_bot.stats_history import delivery_report
from alm_bot.store import EXECUTING, PENDING, REQUESTED, Store
from tests.core.store_builders import ADA, PROD, new_request

pytestmark = pytest.mark.anyio

NOW = datetime.now(UTC).replace(microsecond=0)


async def test_delivery_report_and_scrape_figures_read_the_same_history(database_url: str) -> None:
    moment = [NOW - timedelta(days=3)]
    store = Store(database_url, clock=lambda: moment[0])
    await store.upgrade()
    try:
        async with store.transaction() as tx:
            asked = moment[0] - timedelta(hours=2)
            done = await tx.insert_request(new_request(created_at=asked))
            await tx.transition(done.id, [REQUESTED], PENDING)
            await tx.transition(
                done.id,
                [PENDING],
                "approved",
                decided_by_id=ADA.id,
                decided_by_name=ADA.name,
                decided_at=asked + timedelta(minutes=25),
            )
            await tx.transition(done.id, ["approved"], EXECUTING, anaplan_task_id="T1")
            await tx.transition(done.id, [EXECUTING], "succeeded")
            await tx.audit("sync_succeeded", None, done.id, PROD)
            await tx.insert_request(new_request(created_at=NOW))  # still requested
            await tx.enqueue("card", RequestUpdated(request_id=done.id), "k1")
        moment[0] = NOW - timedelta(days=1)
        async with store.transaction() as tx:  # a later write (say, a verification) moves updated_at
            await tx.update_request(done.id, result=TaskOutcome(successful=True))
        report = await delivery_report(store, period=timedelta(days=90), now=NOW, model_id=PROD)
        figures = await StoreFigures.read(store)
    finally:
        await store.dispose()

    (prod,) = report.models
    # lead time ends when the outcome was recorded (the audit), not at the request's last update
    assert (prod.model_name, prod.succeeded, prod.lead_time_seconds) == ("FP&A PROD", 1, 2 * 3600)
    assert figures.requests == {("sync", "succeeded"): 1, ("sync", "requested"): 1}
    (wait,) = figures.approval_wait.values()
    assert (wait.count, wait.total) == (1, pytest.approx(25 * 60, abs=0.01))
    assert wait.at_or_below == (0, 0, 0, 1, 1, 1, 1, 1, 1)  # 25 min: above the 15 min bound, within 30 min
    assert figures.outbox_depth == 1
    assert figures.outbox_oldest == NOW - timedelta(days=3)
