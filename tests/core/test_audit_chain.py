"""The audit log's hash chain: appends (also from two replicas at once) keep one valid chain, and
`verify` names the first event edited, removed or reordered directly in the database."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from concurrently import run_concurrently
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from store_builders import ADA, BOB, PROD, T0

from alm_bot.config import async_database_url
from alm_bot.store import Store, migrate
from alm_bot.store.chain import GENESIS, ChainReport

pytestmark = pytest.mark.anyio


async def append(store: Store, count: int, *, actor: Any = ADA, tag: str = "") -> None:
    for index in range(count):
        async with store.transaction() as tx:
            detail = {"n": index, "tag": tag, "why": "Slack outage — ünïcode", "ids": ("T1", "T2")}
            await tx.audit("approved", actor, request_id=f"R{index:06d}", model_id=PROD, detail=detail)


async def tamper(store: Store, *statements: tuple[str, dict[str, object]]) -> None:
    """What someone with database access could do: lift the append-only trigger, change rows."""
    async with store.engine.begin() as connection:
        if store.dialect == "postgresql":
            lift = "ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only"
            await connection.execute(sa.text(lift))
        else:
            for verb in ("update", "delete"):
                await connection.execute(sa.text(f"DROP TRIGGER IF EXISTS audit_event_no_{verb}"))
        for statement, params in statements:
            await connection.execute(sa.text(statement), params)


async def ids(store: Store) -> list[int]:
    return [event.id for event in reversed(await store.list_audit(limit=1000))]


async def test_appended_events_form_one_intact_chain(store: Store) -> None:
    await append(store, 5)
    report = await store.verify_audit()
    events = list(reversed(await store.list_audit()))
    assert report == ChainReport(events=5, head_hash=events[-1].hash or "", problem=None)
    assert events[0].prev_hash == GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]


async def test_an_empty_log_is_intact(store: Store) -> None:
    assert (await store.verify_audit()).intact


async def test_an_event_edited_in_the_database_is_named(store: Store) -> None:
    await append(store, 5)
    third = (await ids(store))[2]
    await tamper(store, ("UPDATE audit_event SET actor_name = 'Mallory' WHERE id = :id", {"id": third}))
    problem = (await store.verify_audit()).problem
    assert problem is not None
    assert (problem.kind, problem.event_id) == ("edited", third)


async def test_an_edit_that_also_rewrites_the_hash_shows_at_the_next_event(store: Store) -> None:
    await append(store, 4)
    second, third = (await ids(store))[1:3]
    await tamper(store, ("UPDATE audit_event SET hash = :h WHERE id = :id", {"id": second, "h": "f" * 64}))
    problem = (await store.verify_audit()).problem
    assert problem is not None
    assert (problem.kind, problem.event_id) == ("edited", second)
    assert third > second


async def test_a_removed_event_is_named_by_the_one_after_it(store: Store) -> None:
    await append(store, 5)
    event_ids = await ids(store)
    await tamper(store, ("DELETE FROM audit_event WHERE id = :id", {"id": event_ids[1]}))
    problem = (await store.verify_audit()).problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.after_id) == ("removed", event_ids[2], event_ids[0])


async def test_two_events_swapped_are_reported_as_reordered(store: Store) -> None:
    await append(store, 4)
    a, b = (await ids(store))[1:3]
    await tamper(
        store,
        ("UPDATE audit_event SET id = -1 WHERE id = :a", {"a": a}),
        ("UPDATE audit_event SET id = :a WHERE id = :b", {"a": a, "b": b}),
        ("UPDATE audit_event SET id = :b WHERE id = -1", {"b": b}),
    )
    problem = (await store.verify_audit()).problem
    assert problem is not None
    assert (problem.kind, problem.event_id, problem.predecessor_id) == ("reordered", a, b)


async def test_the_newest_events_removed_are_caught_by_the_head(store: Store) -> None:
    await append(store, 4)
    event_ids = await ids(store)
    await tamper(store, ("DELETE FROM audit_event WHERE id >= :id", {"id": event_ids[2]}))
    report = await store.verify_audit()
    assert report.problem is not None
    assert (report.problem.kind, report.problem.event_id, report.problem.head_length) == (
        "newest_removed",
        event_ids[1],
        4,
    )


async def test_appends_carry_on_from_the_newest_event_when_the_head_row_is_gone(store: Store) -> None:
    await append(store, 3)
    async with store.engine.begin() as connection:
        await connection.execute(sa.text("DELETE FROM audit_chain"))
    await append(store, 2)
    report = await store.verify_audit()
    assert (report.events, report.problem) == (5, None)


async def test_two_replicas_appending_at_once_keep_one_valid_chain(database_url: str, store: Store) -> None:
    other = Store(database_url)  # a second replica: its own engine and connections
    try:
        await run_concurrently(
            [
                *(lambda: append(store, 15, tag="a") for _ in range(3)),
                *(lambda: append(other, 15, actor=BOB, tag="b") for _ in range(3)),
            ]
        )
    finally:
        await other.dispose()
    report = await store.verify_audit()
    assert (report.events, report.problem) == (90, None)


async def test_migration_0008_chains_the_events_written_before_it(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as connection:
            await _write_old_events(connection)
    finally:
        await engine.dispose()
    store = Store(database_url)
    try:
        await store.upgrade()
        assert (await store.verify_audit()).events == 3
        await append(store, 2)  # new events carry on from the backfilled head
        report = await store.verify_audit()
        assert (report.events, report.problem) == (5, None)
        await migrate.downgrade(store.engine, "0004")
        await migrate.upgrade(store.engine)
        assert (await store.verify_audit()).intact
    finally:
        await store.dispose()


async def _write_old_events(connection: AsyncConnection) -> None:
    tables = sa.MetaData()
    await connection.run_sync(tables.reflect)
    rows = [
        {
            "at": T0 + timedelta(seconds=n, microseconds=123456),
            "request_id": "R1",
            "model_id": PROD,
            "actor_id": ADA.id,
            "actor_name": "Adä",
            "origin": "slack",
            "action": action,
            "detail": {"reason": "release", "count": n, "nested": {"b": 1, "a": [1.5, None]}},
        }
        for n, action in enumerate(("requested", "pending", "approved"))
    ]
    await connection.execute(sa.insert(tables.tables["audit_event"]), rows)
