"""Migration 0007 (scheduled requests): rows of 0004 carry over; going down fails what was scheduled."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from store_builders import add_pending

from alm_bot.records import WindowHold
from alm_bot.store import Store, migrate

pytestmark = pytest.mark.anyio

RUNS_AT = datetime(2026, 12, 24, 22, 0, tzinfo=UTC)


async def test_requests_of_0004_carry_over_0007_with_no_schedule(database_url: str) -> None:
    store = Store(database_url)
    try:
        await store.upgrade()
        request = await add_pending(store)
        await migrate.downgrade(store.engine, "0004")  # the row as 0004 holds it
        await store.upgrade()
        found = await store.get_request(request.id)
        assert found is not None
        assert (found.state, found.runs_at, found.window) == ("pending", None, None)
        assert found.plan == request.plan
    finally:
        await store.dispose()


async def test_going_below_0007_fails_a_scheduled_request_with_the_reason_and_back_up_keeps_it(
    database_url: str,
) -> None:
    store = Store(database_url)
    try:
        await store.upgrade()
        waiting = await add_pending(store)
        kept = await add_pending(store)
        async with store.transaction() as tx:
            await tx.transition(waiting.id, {"pending"}, "approved")
            hold = WindowHold(reason="deny window 'Q4 close' is open", zone="Europe/London")
            await tx.transition(
                waiting.id, {"approved"}, "scheduled", runs_at=RUNS_AT, window=hold, lease_expires_at=RUNS_AT
            )
            scheduled = await tx.get_request(waiting.id)
        assert scheduled is not None
        assert (scheduled.runs_at, scheduled.window) == (RUNS_AT, hold)

        await migrate.downgrade(store.engine, "0004")
        await store.upgrade()
        failed = await store.get_request(waiting.id)
        untouched = await store.get_request(kept.id)
        assert failed is not None
        assert untouched is not None
        assert (failed.state, failed.runs_at, failed.window) == ("failed", None, None)
        assert failed.result is not None
        assert failed.result.cause == "no_window"
        assert "downgraded" in (failed.result.message or "")
        assert untouched.state == "pending"
    finally:
        await store.dispose()
