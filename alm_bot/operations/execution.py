"""Execution: re-check an approved plan, claim execution, call Anaplan, record that it started.

Anaplan tasks are started here and followed by the watcher; nothing here waits for a task. A process
that dies between claiming execution and recording the task leaves an orphan that `recover_orphans`
settles from what Anaplan shows — never by starting the change a second time.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from alm_bot.anaplan import AnaplanClient
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import AlmBotError, StalePlan
from alm_bot.notify import CARD
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.store import ApprovalRequest, Store

__all__ = ["Execution"]

_UNCONFIRMED = (
    "alm-bot stopped while starting this {what} and Anaplan shows no sign of it, so request {id} is "
    "marked failed rather than risk running it twice. Check the target model in Anaplan, then request "
    "it again if it is still needed."
)


class Execution:
    """Starts approved (or unprotected) changes in Anaplan and settles interrupted starts."""

    def __init__(
        self,
        client: AnaplanClient,
        store: Store,
        directory: ModelDirectory,
        lifecycle: Lifecycle,
        settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:
        self.client = client
        self.store = store
        self.directory = directory
        self.lifecycle = lifecycle
        self.settings = settings
        self.clock = clock

    @property
    def approvers(self) -> list[str]:
        approval = self.settings.approval
        return [*approval.approvers, *approval.approver_groups]

    async def execute(self, request: ApprovalRequest, target: ModelInfo) -> RequestOutcome:
        """Start the change: re-check the plan, claim execution (CAS), call Anaplan, record the outcome."""
        from_state = request.state
        try:
            await self._check_not_stale(request, target)
        except StalePlan as stale:
            return self._outcome(await self.lifecycle.fail(request, {from_state}, str(stale)))
        async with self.store.transaction() as tx:
            executing = await tx.transition(request.id, {from_state}, "executing")
            if executing is None:
                raise await self.lifecycle.not_pending(tx, request.id)
        try:
            if request.operation == "sync":
                return await self._start_sync(executing)
            return await self._change_status(executing)
        except AlmBotError as exc:
            return self._outcome(await self.lifecycle.fail(executing, {"executing"}, str(exc)))

    def _outcome(self, failed: ApprovalRequest) -> RequestOutcome:
        return RequestOutcome(failed, "failed", self.approvers)

    async def _check_not_stale(self, request: ApprovalRequest, target: ModelInfo) -> None:
        plan = request.plan or {}
        if request.operation == "sync":
            latest = await self.client.alm(target.id).get_latest_revision()
            if latest is None or latest.id != plan.get("target_revision_id"):
                now_at = latest.name if latest else "no revision"
                raise StalePlan(
                    f"The plan is stale: {target.label} moved from revision "
                    f"{plan.get('target_revision_name')!r} to {now_at!r} since request {request.id} "
                    "was made. Nothing was changed; request the sync again."
                )
        elif target.active_state != plan.get("from_state"):
            raise StalePlan(
                f"The plan is stale: {target.label} is now {target.active_state}, not "
                f"{plan.get('from_state')} as when request {request.id} was made. "
                "Nothing was changed; ask again if still needed."
            )

    async def _start_sync(self, request: ApprovalRequest) -> RequestOutcome:
        plan = request.plan
        task = await self.client.alm(request.target_model_id).sync_models(
            plan["source_revision_id"],
            plan["source_model_id"],
            plan["target_revision_id"],
            wait_for_completion=False,
        )
        async with self.store.transaction() as tx:
            updated = await tx.update_request(request.id, anaplan_task_id=task.task_id) or request
            await tx.track_task(
                "sync",
                request.target_model_id,
                task.task_id,
                request_id=request.id,
                first_poll_at=self.clock(),
            )
            await tx.audit(
                "sync_started",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"task_id": task.task_id},
            )
            await self.lifecycle.enqueue(tx, updated, "request_updated", CARD)
        self.lifecycle.published()
        return RequestOutcome(updated, "started", self.approvers)

    async def _change_status(self, request: ApprovalRequest) -> RequestOutcome:
        await self.client.alm(request.target_model_id).change_model_status(request.plan["status"])
        self.directory.invalidate()
        done = await self.lifecycle.record_status_changed(request) or await self.store.get_request(request.id)
        assert done is not None  # requests are never deleted
        self.lifecycle.published()
        return RequestOutcome(done, "succeeded", self.approvers)

    async def recover_orphans(self, older_than: timedelta) -> int:
        """Settle requests whose executor died between claiming execution and recording the task.

        A process can stop after moving a request to ``executing`` and before it stored Anaplan's
        task id. Anaplan knows the truth: a sync task created for the target since then is adopted
        and followed; a status change is judged by the model's state now. Anything unconfirmable is
        failed with a message saying what to check — never started a second time.
        """
        cutoff = self.clock() - older_than
        executing = await self.store.list_requests(states={"executing"}, limit=200)
        orphans = [r for r in executing if r.anaplan_task_id is None and r.updated_at < cutoff]
        for request in orphans:
            await self._recover(request)
        return len(orphans)

    async def _recover(self, request: ApprovalRequest) -> None:
        if request.operation == "change_status":
            model = await self.directory.refresh_one(request.target_model_id)
            wanted_online = request.plan.get("status") == "online"
            if model.online == wanted_online:
                await self.lifecycle.record_status_changed(request)
                return
            await self.lifecycle.fail(
                request, {"executing"}, _UNCONFIRMED.format(id=request.id, what="status change")
            )
            return
        since = request.updated_at - timedelta(minutes=1)
        tasks = await self.client.alm(request.target_model_id).get_sync_tasks()
        adopted = [t for t in tasks if t.creation_time >= since]
        if not adopted:
            await self.lifecycle.fail(request, {"executing"}, _UNCONFIRMED.format(id=request.id, what="sync"))
            return
        task_id = max(adopted, key=lambda t: t.creation_time).task_id
        async with self.store.transaction() as tx:
            await tx.update_request(request.id, anaplan_task_id=task_id)
            await tx.track_task(
                "sync", request.target_model_id, task_id, request_id=request.id, first_poll_at=self.clock()
            )
            await tx.audit(
                "sync_adopted",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"task_id": task_id},
            )
