"""Tracked Anaplan tasks: idempotent tracking, leased claims, rescheduling, finishing exactly once."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import anyio
import pytest
import sqlalchemy as sa
from concurrently import run_concurrently
from sqlalchemy.ext.asyncio import create_async_engine
from store_builders import OK, SYNC_PLAN, T0, add_pending, finish

from alm_bot.config import async_database_url
from alm_bot.records import ApprovalNeeded, TaskFinished
from alm_bot.store import APPROVED, EXECUTING, PENDING, SUCCEEDED, Store, TrackedTask, Transaction

pytestmark = pytest.mark.anyio

LEASE = timedelta(seconds=60)
MODEL = "F" * 32


async def track(store: Store, count: int, *, due: datetime = T0) -> list[TrackedTask]:
    async with store.transaction() as tx:
        return [await tx.track_task("sync", MODEL, f"TASK{n}", first_poll_at=due) for n in range(count)]


async def test_tracking_the_same_task_twice_returns_the_first_row(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        first = await tx.track_task(
            "sync", MODEL, "T1", request_id=request.id, first_poll_at=T0, notify="user:U1", context=SYNC_PLAN
        )
        again = await tx.track_task("sync", MODEL, "T1", first_poll_at=T0 + timedelta(hours=1))
        summary = await tx.track_task("comparison_summary", MODEL, "T1", first_poll_at=T0)
    assert again == first
    assert (first.request_id, first.notify, first.context) == (request.id, "user:U1", SYNC_PLAN)
    assert (first.state, first.attempts, first.lease_owner) == ("active", 0, None)
    assert summary.id != first.id
    assert [t.id for t in await store.list_tasks()] == [first.id, summary.id]
    assert [t.id for t in await store.list_tasks(request_id=request.id)] == [first.id]


async def test_a_task_for_an_unknown_request_is_refused(store: Store) -> None:
    with pytest.raises(sa.exc.IntegrityError):
        async with store.transaction() as tx:
            await tx.track_task("sync", MODEL, "T1", request_id="R999999", first_poll_at=T0)


async def test_a_claim_takes_due_tasks_sets_the_lease_and_counts_the_attempt(store: Store) -> None:
    due = await track(store, 1)
    async with store.transaction() as tx:
        later = await tx.track_task("sync", MODEL, "LATER", first_poll_at=T0 + timedelta(minutes=5))

    claimed = await store.claim_due_tasks("w1", T0, LEASE, limit=10)

    assert [t.id for t in claimed] == [due[0].id]
    assert (claimed[0].lease_owner, claimed[0].lease_expires_at, claimed[0].attempts) == ("w1", T0 + LEASE, 1)
    assert later.id not in [t.id for t in claimed]


async def test_a_claim_takes_at_most_limit_tasks_earliest_due_first(store: Store) -> None:
    async with store.transaction() as tx:
        for minute in (3, 1, 2):
            await tx.track_task("sync", MODEL, f"T{minute}", first_poll_at=T0 + timedelta(minutes=minute))
    claimed = await store.claim_due_tasks("w1", T0 + timedelta(minutes=10), LEASE, limit=2)
    assert [t.anaplan_task_id for t in claimed] == ["T1", "T2"]


async def test_a_leased_task_is_not_claimed_again_until_its_lease_expires(store: Store) -> None:
    (task,) = await track(store, 1)
    assert len(await store.claim_due_tasks("crashed", T0, LEASE, limit=10)) == 1

    assert await store.claim_due_tasks("w2", T0 + LEASE - timedelta(seconds=1), LEASE, limit=10) == []
    reclaimed = await store.claim_due_tasks("w2", T0 + LEASE, LEASE, limit=10)

    assert [(t.id, t.lease_owner, t.attempts) for t in reclaimed] == [(task.id, "w2", 2)]
    assert await store.reschedule_task(task.id, "crashed", T0, 1.0, None) is False
    assert await finish(store, task.id, "crashed") is False


async def test_concurrent_claimers_never_get_the_same_task(store: Store) -> None:
    await track(store, 12)
    batches = await run_concurrently(
        [partial(store.claim_due_tasks, f"w{n}", T0, LEASE, 3) for n in range(6)]
    )
    claimed = [t.id for batch in batches for t in batch]
    assert len(claimed) == len(set(claimed)) == 12
    for number, batch in enumerate(batches):
        assert all(t.lease_owner == f"w{number}" for t in batch)


async def test_rescheduling_needs_the_lease_and_gives_it_back(store: Store) -> None:
    (task,) = await track(store, 1)
    await store.claim_due_tasks("w1", T0, LEASE, limit=1)

    assert await store.reschedule_task(task.id, "w2", T0 + timedelta(seconds=5), 5.0, "step") is False
    assert await store.reschedule_task(task.id, "w1", T0 + timedelta(seconds=5), 5.0, "Comparing") is True

    stored = await store.get_task(task.id)
    assert stored is not None
    assert (stored.lease_owner, stored.lease_expires_at, stored.last_step) == (None, None, "Comparing")
    assert (stored.next_poll_at, stored.poll_interval_seconds) == (T0 + timedelta(seconds=5), 5.0)
    assert await store.claim_due_tasks("w2", T0 + timedelta(seconds=4), LEASE, limit=1) == []
    assert len(await store.claim_due_tasks("w2", T0 + timedelta(seconds=5), LEASE, limit=1)) == 1


async def test_finishing_a_task_succeeds_for_exactly_one_caller(store: Store) -> None:
    (task,) = await track(store, 1)
    await store.claim_due_tasks("w1", T0, LEASE, limit=1)
    calls: list[int] = []

    async def on_finish(tx: Transaction, finished: TrackedTask) -> None:
        calls.append(finished.id)

    outcomes = await run_concurrently(
        [lambda: finish(store, task.id, "w1", OK, on_finish) for _ in range(10)]
    )

    assert outcomes.count(True) == 1
    assert calls == [task.id]
    stored = await store.get_task(task.id)
    assert stored is not None
    assert (stored.state, stored.result, stored.lease_owner) == ("finished", OK, None)
    assert stored.finished_at is not None
    assert await store.claim_due_tasks("w1", T0 + timedelta(days=1), LEASE, limit=1) == []


async def test_finishing_moves_the_request_in_the_same_transaction(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        await tx.transition(request.id, [PENDING], APPROVED)
        await tx.transition(request.id, [APPROVED], EXECUTING)
        task = await tx.track_task("sync", MODEL, "T1", request_id=request.id, first_poll_at=T0)
    await store.claim_due_tasks("w1", T0, LEASE, limit=1)

    async def record(tx: Transaction, finished: TrackedTask) -> None:
        assert finished.request_id is not None
        await tx.transition(finished.request_id, [EXECUTING], SUCCEEDED, result=finished.result)
        await tx.enqueue("card", TaskFinished(request_id=finished.request_id), f"done:{finished.id}")

    assert await finish(store, task.id, "w1", OK, record) is True
    stored = await store.get_request(request.id)
    assert stored is not None
    assert (stored.state, stored.result) == (SUCCEEDED, OK)
    assert [row.kind for row in await store.list_outbox()] == ["task_finished"]


async def test_when_recording_fails_the_task_stays_active_and_nothing_is_recorded(store: Store) -> None:
    (task,) = await track(store, 1)
    await store.claim_due_tasks("w1", T0, LEASE, limit=1)

    async def broken(tx: Transaction, finished: TrackedTask) -> None:
        await tx.enqueue("card", TaskFinished(request_id="R1"), "done")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await finish(store, task.id, "w1", OK, broken)
    stored = await store.get_task(task.id)
    assert stored is not None
    assert (stored.state, stored.lease_owner) == ("active", "w1")
    assert await store.list_outbox() == []


async def test_releasing_leases_makes_the_work_claimable_at_once(store: Store) -> None:
    await track(store, 2)
    async with store.transaction() as tx:
        await tx.enqueue("approvals", ApprovalNeeded(request_id="R1"), "k1", not_before=T0)
    await store.claim_due_tasks("w1", T0, LEASE, limit=1)
    await store.claim_due_tasks("other", T0, LEASE, limit=1)
    await store.claim_due_outbox("w1", T0, LEASE, limit=1)

    await store.release_leases("w1")

    assert [t.lease_owner for t in await store.list_tasks()] == [None, "other"]
    assert [t.anaplan_task_id for t in await store.claim_due_tasks("w2", T0, LEASE, limit=5)] == ["TASK0"]
    assert len(await store.claim_due_outbox("w2", T0, LEASE, limit=5)) == 1


async def test_on_postgres_a_claimer_skips_rows_another_claimer_holds(
    store: Store, database_url: str
) -> None:
    if store.dialect != "postgresql":
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises claimers with its write lock")
    tasks = await track(store, 4)
    held = [t.id for t in tasks[:2]]
    other = create_async_engine(async_database_url(database_url))
    try:
        async with other.begin() as connection:
            # Hold row locks as a claimer does mid-statement; a claim that waited would time out.
            lock = sa.text("SELECT id FROM tracked_task WHERE id = ANY(:ids) FOR UPDATE")
            await connection.execute(lock, {"ids": held})
            with anyio.fail_after(10):
                claimed = await store.claim_due_tasks("w2", T0, LEASE, limit=4)
    finally:
        await other.dispose()
    assert sorted(t.id for t in claimed) == sorted(t.id for t in tasks[2:])


async def test_on_postgres_concurrent_claimers_get_disjoint_non_empty_sets(store: Store) -> None:
    if store.dialect != "postgresql":
        pytest.skip("runs on PostgreSQL only")
    await track(store, 40)
    batches = await run_concurrently(
        [partial(store.claim_due_tasks, f"w{n}", T0, LEASE, 10) for n in range(4)]
    )
    assert all(len(batch) == 10 for batch in batches)
    claimed = [t.id for batch in batches for t in batch]
    assert len(set(claimed)) == 40
