"""What the watcher needs from the core, and nothing more: `WatchedWork`.

The watcher never reaches into the store or the Anaplan client; it asks this narrow interface to
expire, settle, claim, read and record, and every change it causes goes through the lifecycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from alm_bot.anaplan import AnaplanClient, SummaryReport
from alm_bot.anaplan.models import CompletedReportTask, CompletedSyncTask, PendingTask
from alm_bot.config import Settings
from alm_bot.evidence.verification import verify_sync
from alm_bot.operations.approvals import Approvals
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.preflight import read_plan_report
from alm_bot.operations.recording import Recording
from alm_bot.operations.recovery import Recovery
from alm_bot.radar import MAX_REPORT_BYTES, ReportReading
from alm_bot.records import SyncPlan, TaskOutcome, TaskProgress, Verification
from alm_bot.store import ApprovalRequest, OutboxRow, Store, TrackedTask

__all__ = ["AnyTask", "WatchedWork"]

AnyTask = PendingTask | CompletedSyncTask | CompletedReportTask


class WatchedWork:
    """The watcher's side of the core."""

    def __init__(
        self,
        client: AnaplanClient,
        store: Store,
        settings: Settings,
        lifecycle: Lifecycle,
        recording: Recording,
        recovery: Recovery,
        approvals: Approvals,
    ) -> None:
        self._client = client
        self._store = store
        self.settings = settings
        self.clock: Callable[[], datetime] = lifecycle.clock
        self._lifecycle = lifecycle
        self._recording = recording
        self._recovery = recovery
        self._approvals = approvals
        self.report_cap = MAX_REPORT_BYTES
        """The most of a plan's full report the radar downloads; past it, the verdict is ``unknown``."""

    # --- requests ----------------------------------------------------------------------------------

    async def expire_due(self, now: datetime) -> list[ApprovalRequest]:
        return await self._lifecycle.expire_due(now)

    async def nudge_due(self, now: datetime) -> int:
        """Remind and escalate pending requests that waited past their policy's times."""
        return await self._approvals.nudge_due(now)

    async def settle_unsettled(self, now: datetime) -> int:
        """Take up requests whose owner is gone (`Recovery.settle`)."""
        return await self._recovery.settle(now)

    async def find_request(self, request_id: str) -> ApprovalRequest | None:
        return await self._store.get_request(request_id)

    # --- tracked tasks -----------------------------------------------------------------------------

    async def claim_due_tasks(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[TrackedTask]:
        return await self._store.claim_due_tasks(owner, now, lease, limit)

    async def recent_successful_tasks(self, kind: str, model_id: str, limit: int) -> list[TrackedTask]:
        """What the watcher's pacing learns from: how long past tasks into the model took."""
        return await self._store.recent_successful_tasks(kind, model_id, limit)

    async def reschedule_task(
        self, task: TrackedTask, owner: str, next_poll_at: datetime, interval: float, step: str | None
    ) -> bool:
        return await self._store.reschedule_task(task.id, owner, next_poll_at, interval, step)

    async def fetch_task(self, task: TrackedTask) -> AnyTask:
        """Anaplan's view of the task now."""
        alm = self._client.alm(task.model_id)
        if task.kind == "sync":
            return await alm.get_sync_task(task.anaplan_task_id)
        if task.kind == "comparison_report":
            return await alm.get_comparison_report_task(task.anaplan_task_id)
        return await alm.get_comparison_summary_task(task.anaplan_task_id)

    async def fetch_summary(self, task: TrackedTask, info: CompletedReportTask) -> SummaryReport:
        return await self._client.alm(task.model_id).get_comparison_summary(info)

    async def verify_sync(self, task: TrackedTask) -> Verification | None:
        """After a successful sync: check its target (`alm_bot.evidence.verification`)."""
        request = await self._store.get_request(task.request_id) if task.request_id else None
        if request is None or not isinstance(request.plan, SyncPlan):
            return None
        return await verify_sync(self._client, request.plan, self.clock(), task.model_id)

    async def read_plan_report(self, task: TrackedTask, info: CompletedReportTask) -> ReportReading:
        """A plan's full comparison report, downloaded within the radar's cap and read by it."""
        return await read_plan_report(self._client, task.model_id, info, max_bytes=self.report_cap)

    async def note_progress(self, task: TrackedTask, step: str, progress: float | None) -> None:
        """A sync moved to a new step: a progress line in the card's thread.

        A release's targets sync in parallel through the same steps: its line names the target and
        its dedupe key holds the target's model id, so each target's step is told once (a plain
        sync keeps the key ``step:<step>``)."""
        if not task.request_id or task.kind != "sync":
            return
        async with self._lifecycle.transaction() as tx:
            request = await tx.get_request(task.request_id)
            if request is None:
                return
            plan = request.plan
            target = None
            moment = f"step:{step}"
            if isinstance(plan, SyncPlan) and plan.is_release:
                named = [t.model.name for t in plan.targets if t.model.id.upper() == task.model_id.upper()]
                target = named[0] if named else task.model_id
                moment = f"step:{task.model_id}:{step}"
            notice = TaskProgress(request_id=request.id, step=step, progress=progress, target=target)
            await self._lifecycle.enqueue(tx, request, notice, "card", moment=moment)

    async def finish_task(self, task: TrackedTask, owner: str, outcome: TaskOutcome) -> bool:
        return await self._recording.finish(task, owner, outcome)

    # --- outbox ------------------------------------------------------------------------------------

    async def claim_due_outbox(
        self, owner: str, now: datetime, lease: timedelta, limit: int
    ) -> list[OutboxRow]:
        return await self._store.claim_due_outbox(owner, now, lease, limit)

    async def record_delivery(
        self, row: OutboxRow, owner: str, receipt: dict[str, Any] | None, card_ref: str | None
    ) -> bool:
        """Mark the notice sent and, in the same transaction, remember where its request's card is."""
        request_id = getattr(row.payload, "request_id", None)
        async with self._lifecycle.transaction() as tx:
            if await tx.mark_sent(row.id, owner, receipt) is None:
                return False
            if card_ref is not None and request_id is not None:
                await tx.update_request(request_id, card_ref=card_ref)
        return True

    async def record_delivery_failure(
        self, row: OutboxRow, owner: str, next_attempt_at: datetime | None, error: str
    ) -> bool:
        return await self._store.mark_failed(row.id, owner, next_attempt_at, error)

    async def release_leases(self, owner: str) -> None:
        await self._store.release_leases(owner)
