"""The repository: every read and every change of alm-bot's stored state.

Every change is one compare-and-set statement (``UPDATE … WHERE <expected state> … RETURNING``):
whoever's statement matched the row won, everybody else gets ``None``/``False``/``[]``. So double
clicks, retries and several replicas never both win, on SQLite and on PostgreSQL alike.

Work queues (tracked tasks, outbox) are claimed with a lease: a claim stamps ``lease_owner`` and
``lease_expires_at``; completing needs the lease owner; an expired lease is claimable again, so
the work of a crashed process comes back. Owners must be unique per process.

Callers record each step with ``Transaction.audit()`` inside the transaction that made it, so a
step and its record commit together; ``expire_due`` records its own steps (action ``expired``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from alm_bot.actor import Actor
from alm_bot.errors import StoreUnavailable
from alm_bot.store import migrate
from alm_bot.store.engine import WRITE, make_engine
from alm_bot.store.states import REQUESTED, TaskKind, check_transition
from alm_bot.store.tables import (
    ApprovalRequest,
    AuditEvent,
    OutboxRow,
    TrackedTask,
    metadata,
    new_request_id,
    normalise_request_id,
    utcnow,
)

__all__ = ["OnExpired", "OnFinish", "OnSent", "Store", "Transaction"]

_REQUESTS: Final = metadata.tables["approval_request"]
_TASKS: Final = metadata.tables["tracked_task"]
_OUTBOX: Final = metadata.tables["outbox"]
_AUDIT: Final = metadata.tables["audit_event"]

# Fields a caller may set after insert. Identity, requester and parameters never change;
# state and decided_* change only through transition().
_MUTABLE_FIELDS: Final = frozenset(
    {"plan", "slack_channel", "slack_ts", "anaplan_task_id", "result", "expires_at", "reason"}
)
_TRANSITION_FIELDS: Final = _MUTABLE_FIELDS | {"decided_by_id", "decided_by_name", "decided_at"}
_ID_ATTEMPTS: Final = 8
_ERROR_LIMIT: Final = 2000

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
            inserted = await self._insert_new(_REQUESTS, values, ["id"])
            if inserted is not None:
                return _to(ApprovalRequest, inserted)
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
        where = [_REQUESTS.c.id == normalise_request_id(request_id), _REQUESTS.c.state.in_(list(from_states))]
        rows = await self._update(
            _REQUESTS, where, {**fields, "state": to_state, "updated_at": self._clock()}
        )
        return _to(ApprovalRequest, rows[0]) if rows else None

    async def update_request(self, request_id: str, **fields: Any) -> ApprovalRequest | None:
        """Set non-state fields (plan, slack_channel/slack_ts, anaplan_task_id, result, …)."""
        _check_fields(fields, _MUTABLE_FIELDS)
        where = [_REQUESTS.c.id == normalise_request_id(request_id)]
        rows = await self._update(_REQUESTS, where, {**fields, "updated_at": self._clock()})
        return _to(ApprovalRequest, rows[0]) if rows else None

    async def get_request(self, request_id: str) -> ApprovalRequest | None:
        return await _get_request(self._connection, request_id)

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
        inserted = await self._insert_new(_TASKS, values, ["kind", "model_id", "anaplan_task_id"])
        if inserted is not None:
            return _to(TrackedTask, inserted)
        existing = sa.select(_TASKS).where(
            _TASKS.c.kind == kind, _TASKS.c.model_id == model_id, _TASKS.c.anaplan_task_id == anaplan_task_id
        )
        return _to(TrackedTask, (await self._connection.execute(existing)).one())

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
        return await self._insert_new(_OUTBOX, values, ["dedupe_key"]) is not None

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
        await self._connection.execute(sa.insert(_AUDIT).values(event.model_dump(exclude={"id"})))

    # --- used by Store for its own one-transaction operations ------------------------------------

    async def _update(self, table: sa.Table, where: list[Any], values: Mapping[str, Any]) -> list[Row[Any]]:
        statement = sa.update(table).where(*where).values(**values).returning(*table.c)
        return list((await self._connection.execute(statement)).all())

    async def _insert_new(
        self, table: sa.Table, values: Mapping[str, Any], keys: list[str]
    ) -> Row[Any] | None:
        """INSERT … ON CONFLICT (keys) DO NOTHING RETURNING: the row, or None if it existed."""
        insert = postgresql.insert if self._connection.dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=keys)
        return (await self._connection.execute(statement.returning(*table.c))).first()


OnFinish = Callable[[Transaction, TrackedTask], Awaitable[None]]
OnSent = Callable[[Transaction, OutboxRow], Awaitable[None]]
OnExpired = Callable[[Transaction, ApprovalRequest], Awaitable[None]]


class Store:
    """alm-bot's database. Creating it does no I/O; call ``upgrade()`` before first use."""

    def __init__(
        self,
        database_url: str | SecretStr,
        *,
        busy_timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if isinstance(database_url, SecretStr):
            database_url = database_url.get_secret_value()
        self._engine = make_engine(database_url, busy_timeout_seconds=busy_timeout_seconds)
        self._clock = clock

    def __repr__(self) -> str:
        return f"Store({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine, for diagnostics and tests; change state through the methods."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    # --- lifecycle -------------------------------------------------------------------------------

    async def upgrade(self) -> None:
        """Apply the shipped migrations up to head; a no-op when already there; concurrency-safe."""
        try:
            await migrate.upgrade(self._engine)
        except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise self._unavailable(exc) from exc

    async def schema_revision(self) -> str | None:
        return await migrate.schema_revision(self._engine)

    async def ping(self) -> None:
        """Raise `StoreUnavailable` (a ``ConnectionError`` naming the database, never its password)."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            raise self._unavailable(exc) from exc

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection; `StoreUnavailable` when none can be opened or the link drops while in use.

        Callers (the watcher above all) can then tell "the database is down, try again later"
        from a bug, without knowing the driver's exceptions.
        """
        opened = False
        try:
            async with self._engine.connect() as connection:
                opened = True
                yield connection
        except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            dropped = isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated
            if opened and not dropped:
                raise
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        where = self._engine.url.render_as_string(hide_password=True)
        return StoreUnavailable(f"The database {where} does not answer: {exc}")

    async def dispose(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction; commits when the block ends, rolls back if it raises.

        Inside, work only through ``tx``: another ``Store`` write would need a second connection,
        which on SQLite waits for this transaction's write lock until the busy timeout.
        """
        async with self._connect() as connection:
            connection = await connection.execution_options(**{WRITE: True})
            async with connection.begin():
                yield Transaction(connection, self._clock)

    # --- reads -----------------------------------------------------------------------------------

    async def get_request(self, request_id: str) -> ApprovalRequest | None:
        async with self._connect() as connection:
            return await _get_request(connection, request_id)

    async def list_requests(
        self,
        states: Collection[str] | None = None,
        requester_id: str | None = None,
        model_id: str | None = None,
        limit: int = 50,
    ) -> list[ApprovalRequest]:
        """Requests matching every given filter, newest first."""
        query = sa.select(_REQUESTS)
        if states is not None:
            query = query.where(_REQUESTS.c.state.in_(list(states)))
        if requester_id is not None:
            query = query.where(_REQUESTS.c.requester_id == requester_id)
        if model_id is not None:
            query = query.where(_REQUESTS.c.target_model_id == model_id)
        query = query.order_by(_REQUESTS.c.created_at.desc(), _REQUESTS.c.id.desc()).limit(limit)
        return await self._select(ApprovalRequest, query)

    async def find_request_by_card(self, channel: str, ts: str) -> ApprovalRequest | None:
        """The request whose approval card is message ``ts`` in ``channel``."""
        query = sa.select(_REQUESTS).where(_REQUESTS.c.slack_channel == channel, _REQUESTS.c.slack_ts == ts)
        found = await self._select(ApprovalRequest, query.limit(1))
        return found[0] if found else None

    async def list_audit(
        self, model_id: str | None = None, request_id: str | None = None, limit: int = 50
    ) -> list[AuditEvent]:
        """Audit events matching every given filter, newest first."""
        query = sa.select(_AUDIT)
        if model_id is not None:
            query = query.where(_AUDIT.c.model_id == model_id)
        if request_id is not None:
            query = query.where(_AUDIT.c.request_id == normalise_request_id(request_id))
        return await self._select(AuditEvent, query.order_by(_AUDIT.c.id.desc()).limit(limit))

    async def get_task(self, task_id: int) -> TrackedTask | None:
        found = await self._select(TrackedTask, sa.select(_TASKS).where(_TASKS.c.id == task_id))
        return found[0] if found else None

    async def list_tasks(self, request_id: str | None = None, state: str | None = None) -> list[TrackedTask]:
        """Tracked tasks, oldest first."""
        query = sa.select(_TASKS)
        if request_id is not None:
            query = query.where(_TASKS.c.request_id == normalise_request_id(request_id))
        if state is not None:
            query = query.where(_TASKS.c.state == state)
        return await self._select(TrackedTask, query.order_by(_TASKS.c.id))

    async def recent_successful_tasks(self, kind: str, model_id: str, limit: int) -> list[TrackedTask]:
        """The newest ``limit`` finished, successful tasks of ``kind`` into ``model_id``, newest first.

        Failed ones are left out: a failure can come at any time, it says nothing about how long the
        next task will take (what the watcher learns from these).
        """
        query = (
            sa.select(_TASKS)
            .where(_TASKS.c.kind == kind, _TASKS.c.model_id == model_id, _TASKS.c.state == "finished")
            .order_by(_TASKS.c.finished_at.desc(), _TASKS.c.id.desc())
            .limit(limit * 3)  # room for the failures among them
        )
        found = await self._select(TrackedTask, query)
        return [t for t in found if t.finished_at is not None and (t.result or {}).get("successful")][:limit]

    async def list_outbox(self, sent: bool | None = None, limit: int = 100) -> list[OutboxRow]:
        """Outbox rows (``sent``: only sent / only unsent / all), oldest first."""
        query = sa.select(_OUTBOX)
        if sent is not None:
            query = query.where(_OUTBOX.c.sent_at.is_not(None) if sent else _OUTBOX.c.sent_at.is_(None))
        return await self._select(OutboxRow, query.order_by(_OUTBOX.c.id).limit(limit))

    # --- requests --------------------------------------------------------------------------------

    async def expire_due(self, now: datetime, on_expired: OnExpired | None = None) -> list[ApprovalRequest]:
        """Move pending requests whose ``expires_at <= now`` to expired; return exactly those rows.

        Each row is returned to exactly one of several concurrent callers. The audit event and
        ``on_expired`` (e.g. enqueue the card update) run in the same transaction.
        """
        where = [_REQUESTS.c.state == "pending", _REQUESTS.c.expires_at <= now]
        async with self.transaction() as tx:
            rows = await tx._update(_REQUESTS, where, {"state": "expired", "updated_at": now})
            expired = sorted((_to(ApprovalRequest, row) for row in rows), key=lambda r: (r.created_at, r.id))
            for request in expired:
                detail = {"expires_at": _iso(request.expires_at)}
                await tx.audit("expired", None, request.id, request.target_model_id, detail)
                if on_expired is not None:
                    await on_expired(tx, request)
        return expired

    # --- tracked tasks ---------------------------------------------------------------------------

    async def claim_due_tasks(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[TrackedTask]:
        """Lease up to ``limit`` active tasks due for a poll (``next_poll_at <= now``, no live lease)."""
        claimable = sa.and_(
            _TASKS.c.state == "active", _TASKS.c.next_poll_at <= now, _lease_free(_TASKS, now)
        )
        order = (_TASKS.c.next_poll_at, _TASKS.c.id)
        rows = await self._claim(_TASKS, claimable, order, owner, now + lease, limit)
        return sorted((_to(TrackedTask, r) for r in rows), key=lambda t: (t.next_poll_at, t.id or 0))

    async def reschedule_task(
        self,
        task_id: int,
        owner: str,
        next_poll_at: datetime,
        poll_interval_seconds: float,
        last_step: str | None,
    ) -> bool:
        """Set the next poll and release the lease; False if ``owner`` no longer holds it."""
        where = [_TASKS.c.id == task_id, _TASKS.c.state == "active", _TASKS.c.lease_owner == owner]
        values = {
            "next_poll_at": next_poll_at,
            "poll_interval_seconds": poll_interval_seconds,
            "last_step": last_step,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        async with self.transaction() as tx:
            return bool(await tx._update(_TASKS, where, values))

    async def finish_task(
        self,
        task_id: int,
        owner: str,
        result: Mapping[str, Any] | None,
        on_finish: OnFinish | None = None,
    ) -> bool:
        """Mark a leased task finished and run ``on_finish`` in the same transaction.

        Exactly one caller ever gets True. If ``on_finish`` raises, nothing is committed and the
        task stays active (its lease runs out and it is polled again).
        """
        where = [_TASKS.c.id == task_id, _TASKS.c.state == "active", _TASKS.c.lease_owner == owner]
        async with self.transaction() as tx:
            values = {
                "state": "finished",
                "result": dict(result) if result is not None else None,
                "finished_at": self._clock(),
                "lease_owner": None,
                "lease_expires_at": None,
            }
            rows = await tx._update(_TASKS, where, values)
            if not rows:
                return False
            if on_finish is not None:
                await on_finish(tx, _to(TrackedTask, rows[0]))
        return True

    # --- outbox ----------------------------------------------------------------------------------

    async def claim_due_outbox(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxRow]:
        """Lease up to ``limit`` unsent notices due now (``next_attempt_at <= now``, no live lease)."""
        claimable = sa.and_(
            _OUTBOX.c.sent_at.is_(None), _OUTBOX.c.next_attempt_at <= now, _lease_free(_OUTBOX, now)
        )
        order = (_OUTBOX.c.next_attempt_at, _OUTBOX.c.id)
        rows = await self._claim(_OUTBOX, claimable, order, owner, now + lease, limit)
        return sorted((_to(OutboxRow, r) for r in rows), key=lambda o: o.id or 0)

    async def mark_sent(
        self,
        row_id: int,
        owner: str,
        receipt: Mapping[str, Any] | None,
        on_sent: OnSent | None = None,
    ) -> bool:
        """Record delivery (and run ``on_sent`` in the same transaction); False if the lease was lost."""
        where = [_OUTBOX.c.id == row_id, _OUTBOX.c.sent_at.is_(None), _OUTBOX.c.lease_owner == owner]
        async with self.transaction() as tx:
            values = {
                "sent_at": self._clock(),
                "receipt": dict(receipt) if receipt is not None else None,
                "lease_owner": None,
                "lease_expires_at": None,
            }
            rows = await tx._update(_OUTBOX, where, values)
            if not rows:
                return False
            if on_sent is not None:
                await on_sent(tx, _to(OutboxRow, rows[0]))
        return True

    async def mark_failed(
        self, row_id: int, owner: str, next_attempt_at: datetime | None, error: str
    ) -> bool:
        """Record a failed delivery and when to retry (``None``: give up); False if the lease was lost."""
        where = [_OUTBOX.c.id == row_id, _OUTBOX.c.sent_at.is_(None), _OUTBOX.c.lease_owner == owner]
        values = {
            "next_attempt_at": next_attempt_at,
            "last_error": error[:_ERROR_LIMIT],
            "lease_owner": None,
            "lease_expires_at": None,
        }
        async with self.transaction() as tx:
            return bool(await tx._update(_OUTBOX, where, values))

    async def release_leases(self, owner: str) -> None:
        """Give back every task and notice ``owner`` holds (on shutdown), so others take them at once."""
        released = {"lease_owner": None, "lease_expires_at": None}
        async with self.transaction() as tx:
            for table in (_TASKS, _OUTBOX):
                await tx._update(table, [table.c.lease_owner == owner], released)

    # --- helpers ---------------------------------------------------------------------------------

    async def _claim(
        self,
        table: sa.Table,
        claimable: sa.ColumnElement[bool],
        order: tuple[sa.Column[Any], ...],
        owner: str,
        lease_until: datetime,
        limit: int,
    ) -> list[Row[Any]]:
        values = {"lease_owner": owner, "lease_expires_at": lease_until, "attempts": table.c.attempts + 1}
        pick = sa.select(table.c.id).where(claimable).order_by(*order).limit(limit)
        async with self.transaction() as tx:
            if self.dialect == "postgresql":
                # SKIP LOCKED: concurrent claimers take disjoint rows instead of queueing on the same
                # ones. The pick is a MATERIALIZED CTE because PostgreSQL may re-run an
                # ``IN (subquery)`` during the update and so lease more than ``limit`` rows.
                picked = pick.with_for_update(skip_locked=True).cte("picked").prefix_with("MATERIALIZED")
                where = [table.c.id == picked.c.id, claimable]
            else:
                # SQLite's write lock (BEGIN IMMEDIATE) already serialises claimers.
                where = [table.c.id.in_(pick), claimable]
            return await tx._update(table, where, values)

    async def _select(self, model: type[_Row], query: sa.Select[Any]) -> list[_Row]:
        async with self._connect() as connection:
            return [_to(model, row) for row in await connection.execute(query)]


async def _get_request(connection: AsyncConnection, request_id: str) -> ApprovalRequest | None:
    query = sa.select(_REQUESTS).where(_REQUESTS.c.id == normalise_request_id(request_id))
    row = (await connection.execute(query)).first()
    return _to(ApprovalRequest, row) if row is not None else None


def _to(model: type[_Row], row: Row[Any]) -> _Row:
    """A detached, validated snapshot of a row."""
    return model.model_validate(dict(row._mapping))


def _lease_free(table: sa.Table, now: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(table.c.lease_expires_at.is_(None), table.c.lease_expires_at <= now)


def _check_fields(fields: Mapping[str, Any], allowed: frozenset[str]) -> None:
    refused = sorted(set(fields) - allowed)
    if refused:
        raise ValueError(f"cannot set {', '.join(refused)} here (allowed: {', '.join(sorted(allowed))})")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
