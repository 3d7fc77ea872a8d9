"""Builders of stored rows shared by the store tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from alm_bot.actor import Actor
from alm_bot.store import PENDING, REQUESTED, ApprovalRequest, Store

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ADA = Actor("U0ADA", "Ada", "slack")
BOB = Actor("U0BOB", "Bob", "slack")
PROD = "F" * 32


def new_request(**overrides: Any) -> ApprovalRequest:
    """An unsaved sync request by Ada into PROD, created at T0, expiring a day later."""
    fields: dict[str, Any] = {
        "operation": "sync",
        "parameters": {"source": "fpa-dev", "target": "fpa-prod"},
        "plan": {"source_revision_id": "REV1"},
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
