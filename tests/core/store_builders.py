"""Builders of stored rows shared by the store tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from alm_bot.actor import Actor
from alm_bot.records import ModelRef, RevisionRef, SyncPlan, SyncTarget, TaskOutcome
from alm_bot.store import PENDING, REQUESTED, ApprovalRequest, OutboxRow, Store, TrackedTask, Transaction

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ADA = Actor("U0ADA", "Ada", "slack")
BOB = Actor("U0BOB", "Bob", "slack")
PROD = "F" * 32


def new_request(**overrides: Any) -> ApprovalRequest:
    """An unsaved sync request by Ada into PROD, created at T0, expiring a day later."""
    fields: dict[str, Any] = {
        "operation": "sync",
        "parameters": {"source": "fpa-dev", "target": "fpa-prod"},
        "plan": SYNC_PLAN,
        "target_model_id": PROD,
        "requester_id": ADA.id,
        "requester_name": ADA.name,
        "origin": ADA.origin,
        "created_at": T0,
        "expires_at": T0 + timedelta(hours=24),
    }
    return ApprovalRequest(**(fields | overrides))


async def add_pending(store: Store, **overrides: Any) -> ApprovalRequest:
    """Insert a request and move it to pending, as a protected request is opened."""
    async with store.transaction() as tx:
        request = await tx.insert_request(new_request(**overrides))
        pending = await tx.transition(request.id, [REQUESTED], PENDING)
    assert pending is not None
    return pending


OK = TaskOutcome(successful=True)
SYNC_PLAN = SyncPlan(
    source=ModelRef(id="D" * 32, name="FP&A DEV", alias="fpa-dev"),
    source_revision=RevisionRef(id="REV1", name="R1"),
    targets=(
        SyncTarget(model=ModelRef(id=PROD, name="FP&A PROD"), revision=RevisionRef(id="REV0", name="R0")),
    ),
    protected=True,
)


async def finish(
    store: Store,
    task_id: int,
    owner: str,
    outcome: TaskOutcome | None = OK,
    then: Callable[[Transaction, TrackedTask], Awaitable[None]] | None = None,
) -> bool:
    """Finish a leased task and run ``then`` in the same transaction, as the core records an outcome."""
    async with store.transaction() as tx:
        finished = await tx.finish_task(task_id, owner, outcome)
        if finished is None:
            return False
        if then is not None:
            await then(tx, finished)
    return True


async def mark_sent(
    store: Store,
    row_id: int,
    owner: str,
    receipt: dict[str, Any] | None,
    then: Callable[[Transaction, OutboxRow], Awaitable[None]] | None = None,
) -> bool:
    """Record a delivery and run ``then`` in the same transaction, as the watcher remembers a card."""
    async with store.transaction() as tx:
        sent = await tx.mark_sent(row_id, owner, receipt)
        if sent is None:
            return False
        if then is not None:
            await then(tx, sent)
    return True


async def expire_due(store: Store, now: datetime) -> list[ApprovalRequest]:
    async with store.transaction() as tx:
        return await tx.expire_due(now)
