"""Work queues leased to one process at a time: tracked Anaplan tasks and the outbox.

A claim stamps ``lease_owner`` and ``lease_expires_at``; completing needs the lease owner; an expired
lease is claimable again, so the work of a crashed process comes back. Owners must be unique per
process. Finishing a task and marking a notice sent are `Transaction` statements
(``finish_task``, ``mark_sent``), so the caller records what follows in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.engine import Row

from alm_bot.store.database import Database
from alm_bot.store.tables import OutboxRow, TrackedTask
from alm_bot.store.transaction import OUTBOX, TASKS, lease_free, row_to

__all__ = ["WorkQueues"]

_ERROR_LIMIT: Final = 2000


class WorkQueues(Database):
    """Claim, reschedule and complete leased rows."""

    # --- tracked tasks ---------------------------------------------------------------------------

    async def claim_due_tasks(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[TrackedTask]:
        """Lease up to ``limit`` active tasks due for a poll (``next_poll_at <= now``, no live lease)."""
        claimable = sa.and_(TASKS.c.state == "active", TASKS.c.next_poll_at <= now, lease_free(TASKS, now))
        order = (TASKS.c.next_poll_at, TASKS.c.id)
        rows = await self._claim(TASKS, claimable, order, owner, now + lease, limit)
        return sorted((row_to(TrackedTask, r) for r in rows), key=lambda t: (t.next_poll_at, t.id or 0))

    async def reschedule_task(
        self,
        task_id: int,
        owner: str,
        next_poll_at: datetime,
        poll_interval_seconds: float,
        last_step: str | None,
    ) -> bool:
        """Set the next poll and release the lease; False if ``owner`` no longer holds it."""
        where = [TASKS.c.id == task_id, TASKS.c.state == "active", TASKS.c.lease_owner == owner]
        values = {
            "next_poll_at": next_poll_at,
            "poll_interval_seconds": poll_interval_seconds,
            "last_step": last_step,
            "lease_owner": None,
            "lease_expires_at": None,
        }
        async with self.transaction() as tx:
            return bool(await tx.update_rows(TASKS, where, values))

    # --- outbox ----------------------------------------------------------------------------------

    async def claim_due_outbox(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxRow]:
        """Lease up to ``limit`` unsent notices due now (``next_attempt_at <= now``, no live lease)."""
        claimable = sa.and_(
            OUTBOX.c.sent_at.is_(None), OUTBOX.c.next_attempt_at <= now, lease_free(OUTBOX, now)
        )
        order = (OUTBOX.c.next_attempt_at, OUTBOX.c.id)
        rows = await self._claim(OUTBOX, claimable, order, owner, now + lease, limit)
        return sorted((row_to(OutboxRow, r) for r in rows), key=lambda o: o.id or 0)

    async def mark_failed(
        self, row_id: int, owner: str, next_attempt_at: datetime | None, error: str
    ) -> bool:
        """Record a failed delivery and when to retry (``None``: give up); False if the lease was lost."""
        where = [OUTBOX.c.id == row_id, OUTBOX.c.sent_at.is_(None), OUTBOX.c.lease_owner == owner]
        values = {
            "next_attempt_at": next_attempt_at,
            "last_error": error[:_ERROR_LIMIT],
            "lease_owner": None,
            "lease_expires_at": None,
        }
        async with self.transaction() as tx:
            return bool(await tx.update_rows(OUTBOX, where, values))

    async def release_leases(self, owner: str) -> None:
        """Give back every task and notice ``owner`` holds (on shutdown), so others take them at once."""
        released = {"lease_owner": None, "lease_expires_at": None}
        async with self.transaction() as tx:
            for table in (TASKS, OUTBOX):
                await tx.update_rows(table, [table.c.lease_owner == owner], released)

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
            return await tx.update_rows(table, where, values)
