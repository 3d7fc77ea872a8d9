"""The approval and nudge tables: one row per person and request, one claim per nudge, on both
databases — and migration 0006 going down and up again under requests it does not touch."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from concurrently import run_concurrently
from store_builders import T0, add_pending

from alm_bot.store import ApprovalRequest, Store, migrate
from alm_bot.store.approvals import (
    ApprovalRow,
    add_approval,
    approvals_query,
    claim_nudge,
    lock_pending,
    nudge_candidates_query,
)

pytestmark = pytest.mark.anyio


async def approve_once(store: Store, request_id: str, person: str) -> bool:
    async with store.transaction() as tx:
        return await add_approval(tx, request_id, person, person.title(), {"S0PEERS"}, T0)


async def claim(store: Store, request_id: str) -> bool:
    async with store.transaction() as tx:
        return await claim_nudge(tx, request_id, "reminder", T0)


async def test_the_same_person_approving_ten_times_at_once_is_one_row(store: Store) -> None:
    request = await add_pending(store)
    results = await run_concurrently([lambda: approve_once(store, request.id, "U0GRACE")] * 10)
    assert results.count(True) == 1
    assert await approve_once(store, request.id, "U0LINUS")
    rows = await store.select(ApprovalRow, approvals_query(request.id))
    assert [(r.approver_id, r.groups) for r in rows] == [("U0GRACE", ["S0PEERS"]), ("U0LINUS", ["S0PEERS"])]


async def test_a_nudge_is_claimed_once_however_many_replicas_try(store: Store) -> None:
    request = await add_pending(store)
    assert (await run_concurrently([lambda: claim(store, request.id)] * 10)).count(True) == 1


async def test_only_a_pending_request_not_yet_expired_can_be_locked_for_counting(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        assert await lock_pending(tx, request.id, T0 + timedelta(hours=1)) is not None
        assert await lock_pending(tx, request.id, T0 + timedelta(hours=25)) is None  # past expires_at
        await tx.transition(request.id, {"pending"}, "cancelled")
        assert await lock_pending(tx, request.id, T0) is None


async def test_migration_0006_goes_down_and_up_keeping_the_requests(store: Store) -> None:
    request = await add_pending(store)
    assert await approve_once(store, request.id, "U0GRACE")
    await migrate.downgrade(store.engine, "0004")
    async with store.engine.connect() as connection:
        tables = await connection.run_sync(lambda c: sa.inspect(c).get_table_names())
    assert "approval" not in tables
    assert "approval_nudge" not in tables
    await store.upgrade()
    assert (await store.get_request(request.id)) is not None
    assert await store.select(ApprovalRow, approvals_query(request.id)) == []
    assert await approve_once(store, request.id, "U0GRACE")  # a pending request counts from now on


async def test_nudge_candidates_are_the_longest_waiting_first_without_expired_or_fully_nudged_ones(
    store: Store,
) -> None:
    older = await add_pending(store, created_at=T0 - timedelta(hours=3))
    newer = await add_pending(store)
    done = await add_pending(store, created_at=T0 - timedelta(hours=5))
    await add_pending(
        store, created_at=T0 - timedelta(hours=30), expires_at=T0 - timedelta(hours=6)
    )  # expired
    async with store.transaction() as tx:
        for kind in ("reminder", "escalation"):
            assert await claim_nudge(tx, done.id, kind, T0)  # type: ignore[arg-type]
    now = T0 + timedelta(hours=1)
    found = await store.select(ApprovalRequest, nudge_candidates_query(now, timedelta(minutes=30), 10))
    assert [r.id for r in found] == [older.id, newer.id]
    assert await store.select(ApprovalRequest, nudge_candidates_query(now, timedelta(hours=2), 10)) == [
        r for r in found if r.id == older.id
    ]
