"""One database transaction and the statements it is made of.

Every change is one compare-and-set statement (``UPDATE … WHERE <expected state> … RETURNING``):
whoever's statement matched the row won, everybody else gets ``None``/``False``/``[]``. So double
clicks, retries and several replicas never both win, on SQLite and on PostgreSQL alike.

Callers record each step with ``Transaction.audit()`` inside the transaction that made it, so a
step and its record commit together.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

from alm_bot.actor import Actor
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
    {"plan", "slack_channel", "slack_ts", "anaplan_task_id", "result", "expires_at", "reason"}
)
_TRANSITION_FIELDS: Final = _MUTABLE_FIELDS | {"decided_by_id", "decided_by_name", "decided_at"}
_ID_ATTEMPTS: Final = 8

_Row = TypeVar("_Row", bound=SQLModel)


class Transaction:
    """One database transaction: everything done through it commits together, or not at all."""

    def __init__(self, connection: AsyncConnection, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._clock = clock

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
        self, request_id: str, from_states: Collection[str], to_state: str, **fields: Any
    ) -> ApprovalRequest | None:
        """Move a request to ``to_state`` if it is in one of ``from_states``; None if it was not.

        ``fields`` may set ``decided_by_id``/``decided_by_name``/``decided_at``, ``reason``,
        ``result`` and the other non-state fields. Refuses (``ValueError``) an edge not in
        ``TRANSITIONS`` or a field it may not set. Record the step with ``audit()`` in the same
        transaction.
        """
        check_transition(from_states, to_state)
        _check_fields(fields, _TRANSITION_FIELDS)
        where = [REQUESTS.c.id == normalise_request_id(request_id), REQUESTS.c.state.in_(list(from_states))]
        rows = await self.update_rows(
            REQUESTS, where, {**fields, "state": to_state, "updated_at": self._clock()}
        )
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def update_request(self, request_id: str, **fields: Any) -> ApprovalRequest | None:
        """Set non-state fields (plan, slack_channel/slack_ts, anaplan_task_id, result, …)."""
        _check_fields(fields, _MUTABLE_FIELDS)
        where = [REQUESTS.c.id == normalise_request_id(request_id)]
        rows = await self.update_rows(REQUESTS, where, {**fields, "updated_at": self._clock()})
        return row_to(ApprovalRequest, rows[0]) if rows else None

    async def get_request(self, request_id: str) -> ApprovalRequest | None:
        return await get_request(self._connection, request_id)

    async def track_task(
        self,
        kind: TaskKind,
        model_id: str,
        anaplan_task_id: str,
        request_id: str | None = None,
        first_poll_at: datetime | None = None,
        poll_interval_seconds: float = 1.0,
        notify: str | None = None,
        context: Mapping[str, Any] | None = None,
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
            context=dict(context) if context is not None else None,
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
        kind: str,
        destination: str,
        payload: Mapping[str, Any],
        dedupe_key: str,
        not_before: datetime | None = None,
    ) -> bool:
        """Queue a notice for delivery; False (and nothing queued) if ``dedupe_key`` was used before."""
        now = self._clock()
        values = OutboxRow(
            kind=kind,
            destination=destination,
            payload=dict(payload),
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
        """Append one event to the audit log."""
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
        await self._connection.execute(sa.insert(AUDIT).values(event.model_dump(exclude={"id"})))

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
        insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        return (await self._connection.execute(statement.returning(*table.c))).first()


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
