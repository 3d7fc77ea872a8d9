"""Execution: re-check an approved plan, claim execution, call Anaplan, record that it started.

The path of an approval (files and functions)::

    slack/actions.py approve → Operations.decide → requests.Requests.decide
        lifecycle.Lifecycle.move(pending → approved, lease taken)          [audit, DM + card notices]
      → execution.Execution.execute (lease renewed meanwhile, ownership.Ownership.renewing)
        scheduling.Scheduling.closed: change window closed → scheduled (no POST; the watcher starts
                                                         it at the opening, see scheduling.py)
        _check_not_stale: GET latestRevision            stale → failed (facts: planned/current)
                                                         error → retried later by the watcher
        lifecycle: approved → executing + start_intent  [audit "executing"]   ← before the POST
        anaplan AlmClient.sync_models (POST syncTasks)
        _record_started: anaplan_task_id (unique), tracked task, audit sync_started, card notice
    watcher.Watcher._poll → Operations.record_task_result (recording.Recording)
        lifecycle: executing → succeeded | failed        [audit, thread reply, DM, card]
    watcher.Watcher._deliver → notify.Notifier (slack/notifier.py SlackNotifier.deliver)

Anaplan tasks are started here and followed by the watcher; nothing here waits for a task. The
caller holds the request's lease (`ownership`); a process that dies anywhere on this path leaves a
request whose lease lapses, and `recovery.Recovery` settles it — never by starting it a second time.
"""

from __future__ import annotations

import logging

from alm_bot.anaplan import AnaplanClient
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import AlmBotError, AnaplanError, StalePlan, TaskCreationUncertain
from alm_bot.evidence.digest import with_plan_digest
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.ownership import PROOF_DEADLINE, Ownership
from alm_bot.operations.scheduling import Scheduling
from alm_bot.records import (
    RequestUpdated,
    StalePlanFacts,
    StartIntent,
    StatusPlan,
    SyncPlan,
    TaskOutcome,
)
from alm_bot.store import ApprovalRequest
from alm_bot.windows import WindowDecision

__all__ = ["Execution"]

log = logging.getLogger("alm_bot.operations")

_CHECK_BACKOFF_MAX_SECONDS = 60.0


class Execution:
    """Starts approved (or unprotected) changes in Anaplan."""

    def __init__(
        self,
        client: AnaplanClient,
        directory: ModelDirectory,
        lifecycle: Lifecycle,
        ownership: Ownership,
        settings: Settings,
    ) -> None:
        self.client = client
        self.directory = directory
        self.lifecycle = lifecycle
        self.ownership = ownership
        self.settings = settings
        self.clock = lifecycle.clock
        self.scheduling = Scheduling(lifecycle, ownership, settings, lifecycle.clock)

    @property
    def approvers(self) -> list[str]:
        approval = self.settings.approval
        return [*approval.approvers, *approval.approver_groups]

    async def execute(self, request: ApprovalRequest, target: ModelInfo | None = None) -> RequestOutcome:
        """Re-check the plan, claim execution (CAS, intent recorded), call Anaplan, record the start.

        The caller holds the request's lease; it is renewed until the start is recorded. ``target``:
        the target model as just read, if the caller has it.
        """
        async with self.ownership.renewing(request.id):
            return await self._execute(request, target)

    async def _execute(self, request: ApprovalRequest, target: ModelInfo | None) -> RequestOutcome:
        from_state = request.state
        closed = self.scheduling.closed(request)
        if closed is not None:
            return await self._wait_for_window(request, closed)
        try:
            target = target or await self.directory.refresh_one(request.target_model_id)
            await self._check_not_stale(request, target)
        except StalePlan as stale:
            facts = StalePlanFacts(
                model_id=stale.model_id,
                model_name=stale.model_name,
                planned=stale.planned,
                current=stale.current,
            )
            outcome = TaskOutcome(successful=False, message=str(stale), cause="stale_plan", stale=facts)
            return self._outcome(await self.fail(request, {from_state}, outcome))
        except AnaplanError as exc:
            return await self._check_later(request, exc)
        executing = await self.lifecycle.move(
            request,
            {from_state},
            "executing",
            detail=with_plan_digest(),  # what is about to run, to compare with what was approved
            held_by=self.ownership.owner,
            start_intent=self._intent(request),
            deadline_at=self.clock() + PROOF_DEADLINE,
        )
        try:
            if isinstance(executing.plan, SyncPlan):
                return await self._start_sync(executing, executing.plan)
            return await self._change_status(executing, executing.plan)
        except TaskCreationUncertain as exc:
            log.warning("request %s: %s; recovery will look for the task", request.id, exc)
            async with self.lifecycle.transaction() as tx:
                await tx.update_request(request.id, held_by=self.ownership.owner, **self.ownership.released())
            return RequestOutcome(executing, "started", self.approvers)
        except AlmBotError as exc:
            refused = TaskOutcome(successful=False, message=str(exc), cause="start_refused")
            return self._outcome(await self.fail(executing, {"executing"}, refused))

    async def _wait_for_window(self, request: ApprovalRequest, closed: WindowDecision) -> RequestOutcome:
        """No POST while the change window is closed: scheduled for its opening, or failed if none."""
        if closed.runs_at is None:
            message = (
                f"Request {request.id} cannot run: {closed.reason}, and no change window lets it start "
                "within a year. Nothing was changed."
            )
            outcome = TaskOutcome(successful=False, message=message, cause="no_window")
            return self._outcome(await self.fail(request, {request.state}, outcome))
        scheduled = await self.scheduling.schedule(request, closed)
        return RequestOutcome(scheduled, "scheduled", self.approvers)

    def _intent(self, request: ApprovalRequest) -> StartIntent | None:
        plan = request.plan
        if not isinstance(plan, SyncPlan):
            return None
        return StartIntent(
            sent_at=self.clock(),
            target_model_id=plan.target.model.id,
            source_revision_id=plan.source_revision.id,
            target_revision_id=plan.target.revision.id,
        )

    async def fail(
        self, request: ApprovalRequest, from_states: set[str], outcome: TaskOutcome, action: str = "failed"
    ) -> ApprovalRequest:
        detail = {"message": outcome.message, "cause": outcome.cause}
        if outcome.considered_task_ids is not None:
            detail["considered_task_ids"] = ", ".join(outcome.considered_task_ids)
        return await self.lifecycle.move(
            request, from_states, "failed", action=action, detail=detail, result=outcome, lease_owner=None
        )

    def _outcome(self, failed: ApprovalRequest) -> RequestOutcome:
        return RequestOutcome(failed, "failed", self.approvers)

    async def _check_later(self, request: ApprovalRequest, exc: AnaplanError) -> RequestOutcome:
        """The plan could not be re-checked: the watcher tries again with backoff, until the deadline."""
        now = self.clock()
        if request.deadline_at is not None and now >= request.deadline_at:
            message = f"alm-bot could not re-check the plan before starting: {exc}"
            outcome = TaskOutcome(successful=False, message=message, cause="check_failed")
            return self._outcome(await self.fail(request, {request.state}, outcome))
        retry_in = min(_CHECK_BACKOFF_MAX_SECONDS, 2.0 ** (request.attempts + 1))
        log.warning("request %s: re-checking the plan failed, retry in %.0fs: %s", request.id, retry_in, exc)
        async with self.lifecycle.transaction() as tx:
            fields = self.ownership.released(retry_in) | {"attempts": request.attempts + 1}
            later = await tx.update_request(request.id, held_by=self.ownership.owner, **fields)
        return RequestOutcome(later or request, "started", self.approvers)

    async def _check_not_stale(self, request: ApprovalRequest, target: ModelInfo) -> None:
        plan = request.plan
        if isinstance(plan, SyncPlan):
            latest = await self.client.alm(target.id).get_latest_revision()
            if latest is None or latest.id != plan.target.revision.id:
                now_at = latest.name if latest else "no revision"
                raise StalePlan(
                    f"The plan is stale: {target.label} moved from revision "
                    f"{plan.target.revision.name!r} to {now_at!r} since request {request.id} "
                    "was made. Nothing was changed; request the sync again.",
                    model_id=target.id,
                    model_name=target.name,
                    planned=plan.target.revision.name,
                    current=now_at,
                )
        elif target.active_state != plan.from_state:
            raise StalePlan(
                f"The plan is stale: {target.label} is now {target.active_state}, not "
                f"{plan.from_state} as when request {request.id} was made. "
                "Nothing was changed; ask again if still needed.",
                model_id=target.id,
                model_name=target.name,
                planned=plan.from_state,
                current=target.active_state,
            )

    async def _start_sync(self, request: ApprovalRequest, plan: SyncPlan) -> RequestOutcome:
        task = await self.client.alm(request.target_model_id).sync_models(
            plan.source_revision.id, plan.source.id, plan.target.revision.id, wait_for_completion=False
        )
        updated = await self.record_started(request, task.task_id, action="sync_started")
        return RequestOutcome(updated or request, "started", self.approvers)

    async def record_started(
        self, request: ApprovalRequest, task_id: str, *, action: str
    ) -> ApprovalRequest | None:
        """The request owns Anaplan task ``task_id``: remember it (unique), follow it, release the lease."""
        async with self.lifecycle.transaction() as tx:
            updated = await tx.update_request(
                request.id, held_by=self.ownership.owner, anaplan_task_id=task_id, lease_owner=None
            )
            if updated is None:
                log.warning("request %s lost its lease before recording task %s", request.id, task_id)
                return None
            await tx.track_task(
                "sync", request.target_model_id, task_id, request_id=request.id, first_poll_at=self.clock()
            )
            await tx.audit(
                action,
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"task_id": task_id},
            )
            await self.lifecycle.enqueue(tx, updated, RequestUpdated(request_id=updated.id), "card")
        return updated

    async def _change_status(self, request: ApprovalRequest, plan: StatusPlan) -> RequestOutcome:
        await self.client.alm(request.target_model_id).change_model_status(plan.status)
        self.directory.invalidate()
        done = await self.record_status_changed(request, plan)
        return RequestOutcome(done or request, "succeeded", self.approvers)

    async def record_status_changed(
        self, request: ApprovalRequest, plan: StatusPlan
    ) -> ApprovalRequest | None:
        """Executing → succeeded for a status change Anaplan made; None if someone recorded it already."""
        outcome = TaskOutcome(successful=True, message=f"{plan.model.name} is now {plan.status}.")
        async with self.lifecycle.transaction() as tx:
            return await self.lifecycle.transition(
                tx,
                request.id,
                {"executing"},
                "succeeded",
                action="status_changed",
                detail={"status": plan.status},
                result=outcome,
                lease_owner=None,
            )
