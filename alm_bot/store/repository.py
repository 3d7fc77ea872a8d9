"""The repository: every read and every change of alm-bot's stored state, as `Store`.

`Store` is the `Database` (connection, migrations, transactions) with its `WorkQueues` (leased
tracked tasks and outbox rows), the reads the front ends need, and the expiry of pending requests.
Single-row changes go through ``Store.transaction()`` and the `Transaction` it yields
(``alm_bot.store.transaction``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa

from alm_bot.store.queues import OnExpired, OnFinish, OnSent, WorkQueues
from alm_bot.store.tables import ApprovalRequest, AuditEvent, OutboxRow, TrackedTask, normalise_request_id
from alm_bot.store.transaction import AUDIT, OUTBOX, REQUESTS, TASKS, Transaction, get_request, row_to

__all__ = ["OnExpired", "OnFinish", "OnSent", "Store", "Transaction"]


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

    async def find_request_by_card(self, channel: str, ts: str) -> ApprovalRequest | None:
        """The request whose approval card is message ``ts`` in ``channel``."""
        query = sa.select(REQUESTS).where(REQUESTS.c.slack_channel == channel, REQUESTS.c.slack_ts == ts)
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
        return [t for t in found if t.finished_at is not None and (t.result or {}).get("successful")][:limit]

    async def list_outbox(self, sent: bool | None = None, limit: int = 100) -> list[OutboxRow]:
        """Outbox rows (``sent``: only sent / only unsent / all), oldest first."""
        query = sa.select(OUTBOX)
        if sent is not None:
            query = query.where(OUTBOX.c.sent_at.is_not(None) if sent else OUTBOX.c.sent_at.is_(None))
        return await self.select(OutboxRow, query.order_by(OUTBOX.c.id).limit(limit))

    # --- requests --------------------------------------------------------------------------------

    async def expire_due(self, now: datetime, on_expired: OnExpired | None = None) -> list[ApprovalRequest]:
        """Move pending requests whose ``expires_at <= now`` to expired; return exactly those rows.

        Each row is returned to exactly one of several concurrent callers. The audit event and
        ``on_expired`` (e.g. enqueue the card update) run in the same transaction.
        """
        where = [REQUESTS.c.state == "pending", REQUESTS.c.expires_at <= now]
        async with self.transaction() as tx:
            rows = await tx.update_rows(REQUESTS, where, {"state": "expired", "updated_at": now})
            expired = sorted(
                (row_to(ApprovalRequest, row) for row in rows), key=lambda r: (r.created_at, r.id)
            )
            for request in expired:
                detail = {"expires_at": _iso(request.expires_at)}
                await tx.audit("expired", None, request.id, request.target_model_id, detail)
                if on_expired is not None:
                    await on_expired(tx, request)
        return expired


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
