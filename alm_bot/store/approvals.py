"""Approvals and nudges: one row per person who approved a request, one per reminder or escalation.

- ``approval``: primary key (request, person), so the same person approving twice — a double click,
  Slack's retry, two replicas — is one row: the second insert finds the key taken.
- ``approval_nudge``: primary key (request, kind), kind ``reminder`` or ``escalation``; inserting it
  is the claim that makes a reminder or an escalation happen exactly once across replicas.

Counting is serialised per request by `lock_pending`, the first statement of the transaction that
adds an approval: an ``UPDATE`` of the pending request row, which holds its lock until commit (on
PostgreSQL; SQLite's write transactions are serial anyway). A second approver's transaction waits
for it and then sees the first approval, so the one that completes the count is the one that moves
the request on — never both, never neither.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from alm_bot.store.tables import ApprovalRequest, UtcDateTime, metadata, normalise_request_id
from alm_bot.store.transaction import REQUESTS, Transaction, row_to

__all__ = [
    "APPROVALS",
    "NUDGES",
    "ApprovalNudge",
    "ApprovalRow",
    "NudgeKind",
    "add_approval",
    "approvals_query",
    "claim_nudge",
    "lock_pending",
    "nudge_candidates_query",
    "nudges_query",
]

NudgeKind = Literal["reminder", "escalation"]


class ApprovalRow(SQLModel, table=True):
    """One person's approval of a request (counted under the request's policy when read)."""

    __tablename__ = "approval"

    request_id: str = Field(primary_key=True, foreign_key="approval_request.id")
    approver_id: str = Field(primary_key=True)
    approver_name: str
    # The user groups the approver belonged to when approving (stages name groups).
    groups: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    at: datetime = Field(sa_type=UtcDateTime)


class ApprovalNudge(SQLModel, table=True):
    """A reminder or an escalation of a request, claimed once."""

    __tablename__ = "approval_nudge"

    request_id: str = Field(primary_key=True, foreign_key="approval_request.id")
    kind: str = Field(primary_key=True)
    at: datetime = Field(sa_type=UtcDateTime)


APPROVALS: Final = metadata.tables["approval"]
NUDGES: Final = metadata.tables["approval_nudge"]


async def lock_pending(tx: Transaction, request_id: str, now: datetime) -> ApprovalRequest | None:
    """Lock the request for this transaction if it is pending and not expired by the clock; else None."""
    where = [
        REQUESTS.c.id == normalise_request_id(request_id),
        REQUESTS.c.state == "pending",
        sa.or_(REQUESTS.c.expires_at.is_(None), REQUESTS.c.expires_at > now),
    ]
    rows = await tx.update_rows(REQUESTS, where, {"updated_at": now})
    return row_to(ApprovalRequest, rows[0]) if rows else None


async def add_approval(
    tx: Transaction,
    request_id: str,
    approver_id: str,
    approver_name: str,
    groups: Collection[str],
    at: datetime,
) -> bool:
    """Record an approval; False if this person had approved this request already."""
    values = {
        "request_id": normalise_request_id(request_id),
        "approver_id": approver_id,
        "approver_name": approver_name,
        "groups": sorted(groups),
        "at": at,
    }
    return await tx._insert_new(APPROVALS, values, ["request_id", "approver_id"]) is not None


def approvals_query(request_id: str) -> sa.Select[Any]:
    """The request's approvals, oldest first (run it with ``Transaction.rows`` or ``Store.select``)."""
    return (
        sa.select(APPROVALS)
        .where(APPROVALS.c.request_id == normalise_request_id(request_id))
        .order_by(APPROVALS.c.at, APPROVALS.c.approver_id)
    )


async def claim_nudge(tx: Transaction, request_id: str, kind: NudgeKind, at: datetime) -> bool:
    """Claim the request's reminder or escalation; False if someone claimed it before."""
    values = {"request_id": normalise_request_id(request_id), "kind": kind, "at": at}
    return await tx._insert_new(NUDGES, values, ["request_id", "kind"]) is not None


def nudge_candidates_query(now: datetime, waited: timedelta, limit: int) -> sa.Select[Any]:
    """Pending, unexpired requests that have waited at least ``waited`` and lack a reminder or an
    escalation, oldest first (the longest-waiting are nudged first, whatever the batch size)."""

    def claimed(kind: str) -> sa.Exists:
        return sa.exists().where(NUDGES.c.request_id == REQUESTS.c.id, NUDGES.c.kind == kind)

    return (
        sa.select(REQUESTS)
        .where(
            REQUESTS.c.state == "pending",
            REQUESTS.c.created_at <= now - waited,
            sa.or_(REQUESTS.c.expires_at.is_(None), REQUESTS.c.expires_at > now),
            sa.not_(sa.and_(claimed("reminder"), claimed("escalation"))),
        )
        .order_by(REQUESTS.c.created_at, REQUESTS.c.id)
        .limit(limit)
    )


def nudges_query(request_ids: Collection[str]) -> sa.Select[Any]:
    """The nudges of these requests (run it with ``Transaction.rows`` or ``Store.select``)."""
    ids = [normalise_request_id(r) for r in request_ids]
    return sa.select(NUDGES).where(NUDGES.c.request_id.in_(ids)).order_by(NUDGES.c.at)
