"""Migration 0005 gives every sync request written before target runs its one run, and the run's task id
is unique across all requests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from alm_bot.config import async_database_url
from alm_bot.records import ModelRef, RevisionRef, StartIntent, SyncPlan, SyncTarget
from alm_bot.store import Store, migrate

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PROD = "P" * 32
PLAN = SyncPlan(
    source=ModelRef(id="D" * 32, name="FP&A DEV", alias="dev"),
    source_revision=RevisionRef(id="REV4", name="Capex module"),
    targets=(
        SyncTarget(model=ModelRef(id=PROD, name="FP&A PROD"), revision=RevisionRef(id="REV2", name="R2")),
    ),
    protected=True,
).model_dump(mode="json", exclude_none=True)
INTENT = StartIntent(sent_at=T0, target_model_id=PROD, source_revision_id="REV4", target_revision_id="REV2")


def request_row(request_id: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "operation": "sync",
        "parameters": {},
        "plan": PLAN,
        "target_model_id": PROD,
        "requester_id": "U0ADA",
        "requester_name": "Ada",
        "origin": "slack",
        "state": state,
        "created_at": T0.replace(tzinfo=None),
        "updated_at": T0.replace(tzinfo=None),
        "anaplan_task_id": None,
        "attempts": 0,
        "result": None,
        "start_intent": None,
        **extra,
    }


async def write_rows_at_0004(database_url: str) -> None:
    engine = create_async_engine(async_database_url(database_url))
    try:
        await migrate.upgrade(engine, "0004")
        tables = sa.MetaData()
        async with engine.begin() as connection:
            await connection.run_sync(tables.reflect)
            requests = tables.tables["approval_request"]
            intent = INTENT.model_dump(mode="json")
            await connection.execute(
                sa.insert(requests),
                [
                    request_row("R1", "succeeded", anaplan_task_id="T1", result={"successful": True}),
                    request_row("R2", "executing", start_intent=intent),
                    request_row("R3", "executing", anaplan_task_id="T3", start_intent=intent),
                    request_row("R4", "pending"),
                ],
            )
    finally:
        await engine.dispose()


async def test_migration_0005_gives_each_existing_sync_request_its_one_target_run(database_url: str) -> None:
    await write_rows_at_0004(database_url)
    store = Store(database_url)
    try:
        await store.upgrade()
        runs = {r: await store.list_runs(r) for r in ("R1", "R2", "R3", "R4")}
        assert {r: [(x.position, x.state, x.anaplan_task_id) for x in v] for r, v in runs.items()} == {
            "R1": [(0, "succeeded", "T1")],
            "R2": [(0, "starting", None)],
            "R3": [(0, "running", "T3")],
            "R4": [(0, "waiting", None)],
        }
        assert runs["R2"][0].start_intent == INTENT
        assert runs["R1"][0].result is not None
        assert runs["R1"][0].result.successful
        assert all(v[0].target_model_id == PROD for v in runs.values())
        # Down and up again: the runs are rebuilt from the requests, not doubled.
        await migrate.downgrade(store.engine, "0004")
        await store.upgrade()
        assert len(await store.list_runs("R1")) == 1
    finally:
        await store.dispose()


async def test_an_anaplan_task_belongs_to_one_target_run_across_all_requests(database_url: str) -> None:
    await write_rows_at_0004(database_url)
    store = Store(database_url)
    try:
        await store.upgrade()
        (r4,) = await store.list_runs("R4")
        async with store.transaction() as tx:
            await tx.runs.move(r4.id, {"waiting"}, "starting")
        with pytest.raises(IntegrityError):
            async with store.transaction() as tx:
                await tx.runs.move(r4.id, {"starting"}, "running", anaplan_task_id="T1")
        async with store.transaction() as tx:
            assert await tx.task_owners(["T1", "T3"]) == {"T1": "R1", "T3": "R3"}
    finally:
        await store.dispose()
