"""The repository: every read and every change of alm-bot's stored state, as `Store`.

`Store` is the `Database` (connection, migrations, transactions) with its `WorkQueues` (leased
tracked tasks and outbox rows), the reads the front ends need, and the requests the watcher must settle.
Single-row changes go through ``Store.transaction()`` and the `Transaction` it yields
(``alm_bot.store.transaction``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Final

import sqlalchemy as sa

from alm_bot.store.chain import ChainReport, verify
from alm_bot.store.queues import WorkQueues
from alm_bot.store.runs import RUNS, TargetRun, needs_a_process
from alm_bot.store.tables import ApprovalRequest, AuditEvent, OutboxRow, TrackedTask, normalise_request_id
from alm_bot.store.transaction import AUDIT, OUTBOX, REQUESTS, TASKS, Transaction, get_request

__all__ = ["Store", "Transaction"]

_LEGACY_QUIET: Final = timedelta(minutes=5)


class Store(WorkQueues):
    """alm-bot's database. Creating it does no I/O; call ``upgrade()`` before first use."""

    async def get_request(self, request_id: str) -> ApprovalRequest | None:
        async with self._connect() as connection:
            return await get_request(connection, request_id)

    async def list_requests(
        self,
        states: Collection[str] | None = None,
        requester_id: str | None = None,
        model_id: str | None = None,
        limit: int = 50,
    ) -> list[ApprovalRequest]:
        """Requests matching every given filter, newest first."""
        query = sa.select(REQUESTS)
        if states is not None:
            query = query.where(REQUESTS.c.state.in_(list(states)))
        if requester_id is not None:
            query = query.where(REQUESTS.c.requester_id == requester_id)
        if model_id is not None:
            query = query.where(REQUESTS.c.target_model_id == model_id)
        query = query.order_by(REQUESTS.c.created_at.desc(), REQUESTS.c.id.desc()).limit(limit)
        return await self.select(ApprovalRequest, query)

    async def find_request_by_card(self, card_ref: str) -> ApprovalRequest | None:
        """The request whose card the notifier recorded as ``card_ref``."""
        query = sa.select(REQUESTS).where(REQUESTS.c.card_ref == card_ref)
        found = await self.select(ApprovalRequest, query.limit(1))
        return found[0] if found else None

    async def list_audit(
        self, model_id: str | None = None, request_id: str | None = None, limit: int = 50
    ) -> list[AuditEvent]:
        """Audit events matching every given filter, newest first."""
        query = sa.select(AUDIT)
        if model_id is not None:
            query = query.where(AUDIT.c.model_id == model_id)
        if request_id is not None:
            query = query.where(AUDIT.c.request_id == normalise_request_id(request_id))
        return await self.select(AuditEvent, query.order_by(AUDIT.c.id.desc()).limit(limit))

    async def verify_audit(self) -> ChainReport:
        """Walk the audit hash chain (``alm_bot.store.chain.verify``) in one consistent snapshot."""
        async with self._connect() as connection:
            if connection.dialect.name == "postgresql":
                connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            return await verify(connection)

    async def audit_between(
        self, since: datetime | None = None, until: datetime | None = None, model_id: str | None = None
    ) -> list[AuditEvent]:
        """Audit events in ``[since, until)`` (about ``model_id``), oldest first, hashes included."""
        query = sa.select(AUDIT)
        if since is not None:
            query = query.where(AUDIT.c.at >= since)
        if until is not None:
            query = query.where(AUDIT.c.at < until)
        if model_id is not None:
            query = query.where(AUDIT.c.model_id == model_id)
        return await self.select(AuditEvent, query.order_by(AUDIT.c.id))

    async def list_unsettled(self, now: datetime, limit: int = 100) -> list[ApprovalRequest]:
        """Approved/executing requests (and unprotected ones about to run) that nobody holds and no
        tracked task follows: their executor is gone, they wait for a retry that is due, or a
        release's wave finished and the next is due (`runs.needs_a_process`). A scheduled request's
        lease runs out at its window's opening (``runs_at``): then it is due.

        A row without a lease (written before leases existed) counts once it is 5 minutes old.
        """
        quiet = now - _LEGACY_QUIET
        free = sa.or_(
            REQUESTS.c.lease_expires_at <= now,
            sa.and_(REQUESTS.c.lease_expires_at.is_(None), REQUESTS.c.updated_at <= quiet),
        )
        query = sa.select(REQUESTS).where(
            REQUESTS.c.state.in_(["requested", "approved", "scheduled", "executing"]),
            needs_a_process(REQUESTS.c.id),
            free,
        )
        return await self.select(ApprovalRequest, query.order_by(REQUESTS.c.updated_at).limit(limit))

    async def list_runs(self, request_id: str) -> list[TargetRun]:
        """The target runs of a sync request, in plan order (none for a status change)."""
        query = sa.select(RUNS).where(RUNS.c.request_id == normalise_request_id(request_id))
        return await self.select(TargetRun, query.order_by(RUNS.c.position))

    async def active_runs_on(self, model_id: str) -> list[TargetRun]:
        """Target runs syncing into this model now (starting, or with an Anaplan task running)."""
        query = sa.select(RUNS).where(
            RUNS.c.target_model_id == model_id, RUNS.c.state.in_(["starting", "running"])
        )
        return await self.select(TargetRun, query.order_by(RUNS.c.id))

    async def get_task(self, task_id: int) -> TrackedTask | None:
        found = await self.select(TrackedTask, sa.select(TASKS).where(TASKS.c.id == task_id))
        return found[0] if found else None

    async def find_task(self, kind: str, model_id: str, anaplan_task_id: str) -> TrackedTask | None:
        """The tracked task for this Anaplan task, if anyone follows it."""
        query = sa.select(TASKS).where(
            TASKS.c.kind == kind, TASKS.c.model_id == model_id, TASKS.c.anaplan_task_id == anaplan_task_id
        )
        found = await self.select(TrackedTask, query)
        return found[0] if found else None

    async def list_tasks(self, request_id: str | None = None, state: str | None = None) -> list[TrackedTask]:
        """Tracked tasks, oldest first."""
        query = sa.select(TASKS)
        if request_id is not None:
            query = query.where(TASKS.c.request_id == normalise_request_id(request_id))
        if state is not None:
            query = query.where(TASKS.c.state == state)
        return await self.select(TrackedTask, query.order_by(TASKS.c.id))

    async def recent_successful_tasks(self, kind: str, model_id: str, limit: int) -> list[TrackedTask]:
        """The newest ``limit`` finished, successful tasks of ``kind`` into ``model_id``, newest first.

        Failed ones are left out: a failure can come at any time, it says nothing about how long the
        next task will take (what the watcher learns from these).
        """
        query = (
            sa.select(TASKS)
            .where(TASKS.c.kind == kind, TASKS.c.model_id == model_id, TASKS.c.state == "finished")
            .order_by(TASKS.c.finished_at.desc(), TASKS.c.id.desc())
            .limit(limit * 3)  # room for the failures among them
        )
        found = await self.select(TrackedTask, query)
        return [
            t for t in found if t.finished_at is not None and t.result is not None and t.result.successful
        ][:limit]

    async def list_outbox(self, sent: bool | None = None, limit: int = 100) -> list[OutboxRow]:
        """Outbox rows (``sent``: only sent / only unsent / all), oldest first."""
        query = sa.select(OUTBOX)
        if sent is not None:
            query = query.where(OUTBOX.c.sent_at.is_not(None) if sent else OUTBOX.c.sent_at.is_(None))
        return await self.select(OutboxRow, query.order_by(OUTBOX.c.id).limit(limit))

    # --- requests --------------------------------------------------------------------------------


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
