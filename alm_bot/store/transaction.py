"""One database transaction and the statements it is made of.

Every change is one compare-and-set statement (``UPDATE … WHERE <expected state> … RETURNING``):
whoever's statement matched the row won, everybody else gets ``None``/``False``/``[]``. So double
clicks, retries and several replicas never both win, on SQLite and on PostgreSQL alike.

Callers record each step with ``Transaction.audit()`` inside the transaction that made it, so a
step and its record commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from alm_bot.actor import Actor
from alm_bot.records import NoticePayload, SyncPlan, TaskOutcome
from alm_bot.store.chain import append_event
from alm_bot.store.runs import TargetRuns
from alm_bot.store.states import REQUESTED, TaskKind, check_transition
from alm_bot.store.tables import (
    ApprovalRequest,
    AuditEvent,
    OutboxRow,
    TrackedTask,
    metadata,
    new_request_id,
    normalise_request_id,
)

__all__ = ["AUDIT", "OUTBOX", "REQUESTS", "TASKS", "Transaction", "get_request", "lease_free", "row_to"]

REQUESTS: Final = metadata.tables["approval_request"]
TASKS: Final = metadata.tables["tracked_task"]
OUTBOX: Final = metadata.tables["outbox"]
AUDIT: Final = metadata.tables["audit_event"]

# Fields a caller may set after insert. Identity, requester and parameters never change;
# state and decided_* change only through transition().
_MUTABLE_FIELDS: Final = frozenset(
    {
        "plan",
        "card_ref",
        "anaplan_task_id",
        "result",
        "expires_at",
        "reason",
        "lease_owner",
        "lease_expires_at",
        "deadline_at",
        "attempts",
        "start_intent",
        "runs_at",
        "window",
    }
)
_TRANSITION_FIELDS: Final = _MUTABLE_FIELDS | {"decided_by_id", "decided_by_name", "decided_at"}
_ID_ATTEMPTS: Final = 8

_Row = TypeVar("_Row", bound=SQLModel)


class Transaction:
    """One database transaction: everything done through it commits together, or not at all."""

    def __init__(self, connection: AsyncConnection, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._clock = clock
        self.runs = TargetRuns(connection, clock)  # the target runs of sync requests

    async def insert_request(self, request: ApprovalRequest) -> ApprovalRequest:
        """Store a new request (state ``requested``), choosing a fresh id if its id is taken."""
        if request.state != REQUESTED:
            raise ValueError(f"a new request starts as {REQUESTED!r}, not {request.state!r}")
        values = request.model_dump() | {"updated_at": request.created_at}
        for _ in range(_ID_ATTEMPTS):
            inserted = await self._insert_new(REQUESTS, values, ["id"])
            if inserted is not None:
                return row_to(ApprovalRequest, inserted)
            values["id"] = new_request_id()
        raise RuntimeError("no free request id after several attempts")  # ~10⁹ ids: a broken RNG

    async def transition(
        self,
        request_id: str,
        from_states: Collection[str],
        to_state: str,
        *,
        held_by: str | None = None,
        **fields: Any,
    ) -> ApprovalRequest | None:
        """Move a request to ``to_state`` if it is in one of ``from_states``; None if it was not.

        ``held_by``: only if that owner holds the request's lease. ``fields`` may set
        ``decided_by_id``/``decided_by_name``/``decided_at``, ``reason``, ``result`` and the other
        non-state fields. Refuses (``ValueError``) an edge not in ``TRANSITIONS`` or a field it may
        not set. Record the step with ``audit()`` in the same transaction.
        """
        check_transition(from_states, to_state)
        _check_fields(fields, _TRANSITION_FIELDS)
        where = [REQUESTS.c.id == normalise_request_id(request_id), REQUESTS.c.state.in_(list(from_states))]
        if held_by is not None:
            where.append(REQUESTS.c.lease_owner == held_by)
        rows = await self.update_rows(
            REQUESTS, where, {**fields, "state": to_state, "updated_at": self._clock()}
        )
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def update_request(
        self, request_id: str, *, held_by: str | None = None, **fields: Any
    ) -> ApprovalRequest | None:
        """Set non-state fields (plan, card_ref, anaplan_task_id, result, lease, …).

        ``held_by``: only if that owner holds the request's lease (None: whoever holds it).
        """
        _check_fields(fields, _MUTABLE_FIELDS)
        where = [REQUESTS.c.id == normalise_request_id(request_id)]
        if held_by is not None:
            where.append(REQUESTS.c.lease_owner == held_by)
        rows = await self.update_rows(REQUESTS, where, {**fields, "updated_at": self._clock()})
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def claim_request(
        self, request_id: str, states: Collection[str], owner: str, lease_until: datetime
    ) -> ApprovalRequest | None:
        """Take (or renew) the lease of a request in one of ``states``: free, expired, or ours already."""
        now = self._clock()
        where = [
            REQUESTS.c.id == normalise_request_id(request_id),
            REQUESTS.c.state.in_(list(states)),
            sa.or_(lease_free(REQUESTS, now), REQUESTS.c.lease_owner == owner),
        ]
        values = {"lease_owner": owner, "lease_expires_at": lease_until}
        rows = await self.update_rows(REQUESTS, where, values)
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def take_scheduled(
        self, request_id: str, owner: str, lease_until: datetime, **fields: Any
    ) -> ApprovalRequest | None:
        """Take a ``scheduled`` request before its window opens (an override), if nobody works on it."""
        _check_fields(fields, _MUTABLE_FIELDS)
        where = [
            REQUESTS.c.id == normalise_request_id(request_id),
            REQUESTS.c.state == "scheduled",
            sa.or_(REQUESTS.c.lease_owner.is_(None), lease_free(REQUESTS, self._clock())),
        ]
        values = {
            **fields,
            "lease_owner": owner,
            "lease_expires_at": lease_until,
            "updated_at": self._clock(),
        }
        rows = await self.update_rows(REQUESTS, where, values)
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def task_owners(self, anaplan_task_ids: Collection[str]) -> dict[str, str]:
        """Which request, if any, claims each of these Anaplan task ids (on itself or a target run)."""
        if not anaplan_task_ids:
            return {}
        query = sa.select(REQUESTS.c.anaplan_task_id, REQUESTS.c.id).where(
            REQUESTS.c.anaplan_task_id.in_(list(anaplan_task_ids))
        )
        owners = {row.anaplan_task_id: row.id for row in await self._connection.execute(query)}
        return await self.runs.task_owners(anaplan_task_ids) | owners

    async def expire_due(self, now: datetime) -> list[ApprovalRequest]:
        """Move pending requests whose ``expires_at <= now`` to expired; return exactly those rows.

        Each row is returned to exactly one of several concurrent callers.
        """
        where = [REQUESTS.c.state == "pending", REQUESTS.c.expires_at <= now]
        rows = await self.update_rows(REQUESTS, where, {"state": "expired", "updated_at": now})
        return sorted((row_to(ApprovalRequest, row) for row in rows), key=lambda r: (r.created_at, r.id))

    async def finish_task(self, task_id: int, owner: str, result: TaskOutcome | None) -> TrackedTask | None:
        """Mark a task ``owner`` holds finished with ``result``; None if it does not hold it (any more)."""
        where = [TASKS.c.id == task_id, TASKS.c.state == "active", TASKS.c.lease_owner == owner]
        values = {
            "state": "finished",
            "result": result,
            "finished_at": self._clock(),
            "lease_owner": None,
            "lease_expires_at": None,
        }
        rows = await self.update_rows(TASKS, where, values)
        return row_to(TrackedTask, rows[0]) if rows else None

    async def mark_sent(self, row_id: int, owner: str, receipt: Mapping[str, Any] | None) -> OutboxRow | None:
        """Record the delivery of a notice ``owner`` holds; None if the lease was lost."""
        where = [OUTBOX.c.id == row_id, OUTBOX.c.sent_at.is_(None), OUTBOX.c.lease_owner == owner]
        values = {
            "sent_at": self._clock(),
            "receipt": dict(receipt) if receipt is not None else None,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        rows = await self.update_rows(OUTBOX, where, values)
        return row_to(OutboxRow, rows[0]) if rows else None

    async def get_request(self, request_id: str) -> ApprovalRequest | None:
        return await get_request(self._connection, request_id)

    async def select(self, model: type[_Row], query: sa.Select[Any]) -> list[_Row]:
        """A read inside this transaction: detached snapshots of its rows."""
        return [row_to(model, row) for row in await self._connection.execute(query)]

    async def track_task(
        self,
        kind: TaskKind,
        model_id: str,
        anaplan_task_id: str,
        request_id: str | None = None,
        first_poll_at: datetime | None = None,
        poll_interval_seconds: float = 1.0,
        notify: str | None = None,
        context: SyncPlan | None = None,
    ) -> TrackedTask:
        """Start watching an Anaplan task; returns the existing row if it is already watched.

        ``notify`` (a destination) and ``context`` are kept for whoever records the result.
        """
        now = self._clock()
        values = TrackedTask(
            kind=kind,
            model_id=model_id,
            anaplan_task_id=anaplan_task_id,
            request_id=normalise_request_id(request_id) if request_id else None,
            next_poll_at=first_poll_at or now,
            poll_interval_seconds=poll_interval_seconds,
            notify=notify,
            context=context,
            created_at=now,
        ).model_dump(exclude={"id"})
        inserted = await self._insert_new(TASKS, values, ["kind", "model_id", "anaplan_task_id"])
        if inserted is not None:
            return row_to(TrackedTask, inserted)
        existing = sa.select(TASKS).where(
            TASKS.c.kind == kind, TASKS.c.model_id == model_id, TASKS.c.anaplan_task_id == anaplan_task_id
        )
        return row_to(TrackedTask, (await self._connection.execute(existing)).one())

    async def enqueue(
        self,
        destination: str,
        payload: NoticePayload,
        dedupe_key: str,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a notice for delivery; False (and nothing queued) if ``dedupe_key`` was used before."""
        now = self._clock()
        values = OutboxRow(
            kind=payload.kind,
            destination=destination,
            payload=payload,
            dedupe_key=dedupe_key,
            next_attempt_at=not_before or now,
            created_at=now,
        ).model_dump(exclude={"id"})
        return await self._insert_new(OUTBOX, values, ["dedupe_key"]) is not None

    async def audit(
        self,
        action: str,
        actor: Actor | None,
        request_id: str | None = None,
        model_id: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Append one event to the audit log, at the end of its hash chain (``alm_bot.store.chain``)."""
        event = AuditEvent(
            at=self._clock(),
            request_id=request_id,
            model_id=model_id,
            actor_id=actor.id if actor else None,
            actor_name=actor.name if actor else None,
            origin=actor.origin if actor else None,
            action=action,
            detail=dict(detail or {}),
        )
        await append_event(self._connection, event.model_dump(exclude={"id", "prev_hash", "hash"}))

    # --- statements, also used by Store for its own one-transaction operations --------------------

    async def update_rows(
        self, table: sa.Table, where: list[Any], values: Mapping[str, Any]
    ) -> list[Row[Any]]:
        """UPDATE … WHERE … RETURNING: the rows that matched (and so were changed)."""
        statement = sa.update(table).where(*where).values(**values).returning(*table.c)
        return list((await self._connection.execute(statement)).all())

    @property
    def dialect(self) -> str:
        return self._connection.dialect.name

    async def _insert_new(
        self, table: sa.Table, values: Mapping[str, Any], keys: list[str]
    ) -> Row[Any] | None:
        """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING: the row, or None if it existed."""
        inserted = await self._insert_new_rows(table, [values], keys)
        return inserted[0] if inserted else None

    async def _insert_new_rows(
        self, table: sa.Table, rows: Sequence[Mapping[str, Any]], keys: list[str]
    ) -> list[Row[Any]]:
        """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING, many rows in one statement: the new ones."""
        if not rows:
            return []
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(rows).on_conflict_do_nothing(index_elements=keys)
        return list((await self._connection.execute(statement.returning(*table.c))).all())


async def get_request(connection: AsyncConnection, request_id: str) -> ApprovalRequest | None:
    query = sa.select(REQUESTS).where(REQUESTS.c.id == normalise_request_id(request_id))
    row = (await connection.execute(query)).first()
    return row_to(ApprovalRequest, row) if row is not None else None


def row_to(model: type[_Row], row: Row[Any]) -> _Row:
    """A detached, validated snapshot of a row."""
    return model.model_validate(dict(row._mapping))


def lease_free(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at <= now)


def _check_fields(fields: Mapping[str, Any], allowed: frozenset[str]) -> None:
    refused = sorted(set(fields) - allowed)
    if refused:
        raise ValueError(f"cannot set {', '.join(refused)} here (allowed: {', '.join(sorted(allowed))})")
