"""Migration 0002 converts rows written the way alm-bot wrote them before typed records, and back."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from store_builders import PROD, T0

from alm_bot.config import async_database_url
from alm_bot.records import ComparisonReady, RequestUpdated, StatusPlan, SyncPlan, TaskProgress
from alm_bot.store import Store, migrate

pytestmark = pytest.mark.anyio

DEV = "D" * 32
SUMMARY = {
    "source_revision_id": "REV4",
    "target_revision_id": "REV2",
    "totals": {"created": 3},
    "differences": {},
}
FLAT_SYNC = {
    "source_model_id": DEV,
    "source_model_name": "FP&A DEV",
    "source_alias": "dev",
    "target_model_id": PROD,
    "target_model_name": "FP&A PROD",
    "target_alias": "prod",
    "source_revision_id": "REV4",
    "source_revision_name": "Capex module",
    "source_revision_description": "Capital expenditure.",
    "source_revision_created_by": "ada@example.com",
    "source_revision_created_on": "2025-05-30T14:15:00+00:00",
    "target_revision_id": "REV2",
    "target_revision_name": "Headcount planning",
    "summary_task_id": "S1",
    "summary": SUMMARY,
    "summary_error": None,
    "protected": True,
}
FLAT_STATUS = {
    "model_id": PROD,
    "model_name": "FP&A PROD",
    "model_alias": "prod",
    "from_state": "PRODUCTION",
    "status": "offline",
    "protected": True,
}


def request_row(request_id: str, operation: str, plan: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "id": request_id,
        "operation": operation,
        "parameters": {},
        "plan": plan,
        "target_model_id": PROD,
        "requester_id": "U0ADA",
        "requester_name": "Ada",
        "origin": "slack",
        "state": "executing",
        "created_at": T0,
        "updated_at": T0,
        "slack_channel": None,
        "slack_ts": None,
        "anaplan_task_id": None,
        **extra,
    }


async def write_rows_as_before(database_url: str) -> None:
    """The 0001 schema, with rows shaped exactly as the code before typed records wrote them."""
    engine = create_async_engine(async_database_url(database_url))
    try:
        await migrate.upgrade(engine, "0001")
        tables = sa.MetaData()
        async with engine.begin() as connection:
            await connection.run_sync(tables.reflect)
            requests, tasks, outbox = (
                tables.tables[n] for n in ("approval_request", "tracked_task", "outbox")
            )
            await connection.execute(
                sa.insert(requests),
                [
                    request_row(
                        "R1",
                        "sync",
                        FLAT_SYNC,
                        slack_channel="C0APPROVALS",
                        slack_ts="171.1",
                        anaplan_task_id="T1",
                    ),
                    request_row("R2", "change_status", FLAT_STATUS),
                    # The adoption bug: a second request claiming the same task.
                    request_row("R3", "sync", FLAT_SYNC, anaplan_task_id="T1", created_at=T0 + timedelta(1)),
                ],
            )
            context = {k: v for k, v in FLAT_SYNC.items() if not k.startswith("summary") and k != "protected"}
            await connection.execute(
                sa.insert(tasks),
                [
                    {
                        "kind": "comparison_summary",
                        "model_id": PROD,
                        "anaplan_task_id": "C1",
                        "state": "active",
                        "next_poll_at": T0,
                        "poll_interval_seconds": 1.0,
                        "attempts": 0,
                        "notify": "user:U0ADA",
                        "context": context,
                        "created_at": T0,
                        "result": {"successful": True, "task_state": "COMPLETE", "summary": SUMMARY},
                    },
                ],
            )
            await connection.execute(
                sa.insert(outbox),
                [
                    {
                        "kind": kind,
                        "destination": "card",
                        "payload": payload,
                        "dedupe_key": key,
                        "attempts": 0,
                        "next_attempt_at": T0,
                        "created_at": T0,
                    }
                    for kind, payload, key in (
                        ("request_updated", {"request_id": "R1"}, "k1"),
                        ("task_progress", {"request_id": "R1", "step": "Applying", "progress": 0.5}, "k2"),
                        (
                            "comparison_ready",
                            {
                                "kind": "comparison_summary",
                                "model_id": PROD,
                                "task_id": "C1",
                                "result": {"successful": True, "summary": SUMMARY},
                                "context": context,
                            },
                            "k3",
                        ),
                    )
                ],
            )
    finally:
        await engine.dispose()


async def assert_converted(store: Store) -> None:
    sync, status, twin = [await store.get_request(rid) for rid in ("R1", "R2", "R3")]
    assert sync is not None
    assert status is not None
    assert twin is not None
    assert isinstance(sync.plan, SyncPlan)
    assert (sync.plan.source.alias, sync.plan.target.model.alias, sync.plan.protected) == (
        "dev",
        "prod",
        True,
    )
    assert (sync.plan.source_revision.name, sync.plan.target.revision.id) == ("Capex module", "REV2")
    assert sync.plan.source_revision.created_on is not None
    assert sync.plan.target.summary is not None
    assert sync.plan.target.summary.totals.created == 3
    assert sync.card_ref == "C0APPROVALS 171.1"
    assert isinstance(status.plan, StatusPlan)
    assert (status.plan.model.name, status.plan.from_state, status.plan.status) == (
        "FP&A PROD",
        "PRODUCTION",
        "offline",
    )
    assert (sync.anaplan_task_id, twin.anaplan_task_id) == ("T1", None)  # one task, one request
    (task,) = await store.list_tasks()
    assert task.context is not None
    assert task.context.source.id == DEV
    assert task.result is not None
    assert task.result.summary is not None
    payloads = [row.payload for row in await store.list_outbox()]
    assert payloads[0] == RequestUpdated(request_id="R1")
    assert payloads[1] == TaskProgress(request_id="R1", step="Applying", progress=0.5)
    ready = payloads[2]
    assert isinstance(ready, ComparisonReady)
    assert (ready.task_kind, ready.task_id, ready.outcome.successful) == ("comparison_summary", "C1", True)
    assert ready.plan.source_revision.name == "Capex module"


async def test_migration_0002_converts_rows_written_before_typed_records(database_url: str) -> None:
    await write_rows_as_before(database_url)
    store = Store(database_url)
    try:
        await store.upgrade()
        await assert_converted(store)
    finally:
        await store.dispose()


async def test_migration_0002_goes_back_and_forth_without_losing_what_0001_held(database_url: str) -> None:
    await write_rows_as_before(database_url)
    store = Store(database_url)
    try:
        await store.upgrade()
        await migrate.downgrade(store.engine, "0001")
        await store.upgrade()
        await assert_converted(store)
    finally:
        await store.dispose()
