"""Execution: re-check an approved plan, claim execution, call Anaplan, record that it started.

The path of an approval (files and functions)::

    slack/actions.py approve → Operations.decide → requests.Requests.decide
        lifecycle.Lifecycle.move(pending → approved, lease taken)          [audit, DM + card notices]
      → execution.Execution.execute (lease renewed meanwhile, ownership.Ownership.renewing)
        scheduling.Scheduling.closed: change window closed → scheduled (no POST; the watcher starts
                                                         it at the opening, see scheduling.py)
        a sync: releases.Releases.advance — per target of the first wave, in parallel
          targets.TargetStarts.start: GET latestRevision   stale → target failed (planned/current)
                                                            error → retried later by the watcher
            approved → executing + start_intent, run waiting → starting   [audit]  ← before the POST
            anaplan AlmClient.sync_models (POST syncTasks)
            record_started: run's anaplan_task_id (unique), tracked task, audit sync_started, card
    watcher.Watcher._poll → Operations.record_task_result (recording.Recording)
        run running → succeeded | failed; Releases.conclude: next wave due (recovery starts it),
        or executing → succeeded | failed                 [audit, thread reply, DM, card]
    watcher.Watcher._deliver → notify.Notifier (slack/notifier.py SlackNotifier.deliver)

Anaplan tasks are started here and followed by the watcher; nothing here waits for a task. The
caller holds the request's lease (`ownership`); a process that dies anywhere on this path leaves a
request whose lease lapses, and `recovery.Recovery` settles it — never by starting it a second time.
"""

from __future__ import annotations

import logging
from typing import Final, Literal

from alm_bot.anaplan import AnaplanClient
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import AlmBotError, AnaplanError, StalePlan
from alm_bot.evidence.digest import with_plan_digest
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.ownership import PROOF_DEADLINE, Ownership
from alm_bot.operations.releases import Releases, next_wave
from alm_bot.operations.scheduling import Scheduling
from alm_bot.operations.targets import TargetStarts
from alm_bot.records import StalePlanFacts, StatusPlan, SyncPlan, TaskOutcome
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
        self.starts = TargetStarts(client, directory, lifecycle, ownership)
        self.releases = Releases(self.starts, lifecycle, ownership)
        self.scheduling = Scheduling(lifecycle, ownership, settings, lifecycle.clock)

    @property
    def approvers(self) -> list[str]:
        approval = self.settings.approval
        return [*approval.approvers, *approval.approver_groups]

    async def execute(self, request: ApprovalRequest, target: ModelInfo | None = None) -> RequestOutcome:
        """Start the change: a sync wave by wave (`Releases.advance`), a status change at once.

        The caller holds the request's lease; it is renewed meanwhile. ``target``: the target model
        as just read, if the caller has it (a status change's plan check uses it).
        """
        async with self.ownership.renewing(request.id):
            if isinstance(request.plan, SyncPlan):
                # The window decides when a release starts; once executing, its waves go on.
                closed = self.scheduling.closed(request) if request.state != "executing" else None
                if closed is not None:
                    return await self._wait_for_window(request, closed)
                if request.state == "executing":  # a later wave: its targets' windows, now
                    held = await self._hold_next_wave(request)
                    if held is not None:
                        return self._outcome(held)
                return self._outcome(await self.releases.advance(request))
            return await self._execute_status(request, request.plan, target)

    async def _hold_next_wave(self, request: ApprovalRequest) -> ApprovalRequest | None:
        """A window closed between waves: keep the next wave waiting until it opens (None: start it)."""
        async with self.lifecycle.transaction() as tx:
            runs = await tx.runs.of_request(request.id)
        later = any(r.state != "waiting" for r in runs)  # the first wave was decided at approval
        decision = self.scheduling.wave_closed(request, next_wave(runs)) if later else None
        if decision is not None:
            return await self.scheduling.hold_wave(request, decision)
        if request.runs_at is not None and later:  # it was held and may start now: the card says so
            async with self.lifecycle.transaction() as tx:
                await tx.update_request(request.id, runs_at=None)
        return None

    async def _execute_status(
        self, request: ApprovalRequest, plan: StatusPlan, target: ModelInfo | None
    ) -> RequestOutcome:
        from_state = request.state
        closed = self.scheduling.closed(request)
        if closed is not None:
            return await self._wait_for_window(request, closed)
        try:
            target = target or await self.directory.refresh_one(request.target_model_id)
            _check_status_not_stale(request, plan, target)
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
            deadline_at=self.clock() + PROOF_DEADLINE,
        )
        try:
            return await self._change_status(executing, plan)
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

    async def fail(
        self, request: ApprovalRequest, from_states: set[str], outcome: TaskOutcome, action: str = "failed"
    ) -> ApprovalRequest:
        detail = {"message": outcome.message, "cause": outcome.cause}
        if outcome.considered_task_ids is not None:
            detail["considered_task_ids"] = ", ".join(outcome.considered_task_ids)
        return await self.lifecycle.move(
            request, from_states, "failed", action=action, detail=detail, result=outcome, lease_owner=None
        )

    def _outcome(self, request: ApprovalRequest) -> RequestOutcome:
        status: Literal["started", "failed", "succeeded"] = _STATUS.get(request.state, "started")
        return RequestOutcome(request, status, self.approvers)

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


_STATUS: Final[dict[str, Literal["failed", "succeeded"]]] = {"failed": "failed", "succeeded": "succeeded"}


def _check_status_not_stale(request: ApprovalRequest, plan: StatusPlan, target: ModelInfo) -> None:
    if target.active_state != plan.from_state:
        raise StalePlan(
            f"The plan is stale: {target.label} is now {target.active_state}, not "
            f"{plan.from_state} as when request {request.id} was made. "
            "Nothing was changed; ask again if still needed.",
            model_id=target.id,
            model_name=target.name,
            planned=plan.from_state,
            current=target.active_state,
        )
