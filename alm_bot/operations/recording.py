"""Recording what Anaplan finished: a sync's outcome, a plan's change summary, a comparison someone asked for.

`finish` marks the tracked task finished and records what follows in the same transaction, so the
outcome, its audit event and its notices commit together, exactly once. A successful sync also
records its verification (audit ``verified`` or ``verification_failed``, a thread notice) and sends
its release notes to the card's thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from alm_bot.directory import ModelDirectory
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.preflight import assessed, report_outcome_error
from alm_bot.operations.releases import Releases, finished_notices
from alm_bot.records import ComparisonReady, RequestUpdated, SyncTarget, TaskOutcome
from alm_bot.store import TrackedTask, Transaction

__all__ = ["Recording"]


class Recording:
    """Turns a finished tracked task into request state, audit events and notices."""

    def __init__(self, lifecycle: Lifecycle, directory: ModelDirectory, releases: Releases) -> None:
        self.lifecycle = lifecycle
        self.directory = directory
        self.releases = releases

    async def finish(self, task: TrackedTask, owner: str, outcome: TaskOutcome) -> bool:
        """Record a finished Anaplan task ``owner`` holds; False if another watcher recorded it."""
        async with self.lifecycle.transaction() as tx:
            finished = await tx.finish_task(task.id, owner, outcome)
            if finished is None:
                return False
            await self.record_task_result(tx, finished, outcome)
        return True

    async def record_task_result(self, tx: Transaction, task: TrackedTask, outcome: TaskOutcome) -> None:
        """What a finished task means for its request, and for whoever asked to be told."""
        if task.kind == "sync" and task.request_id:
            await self._record_sync_result(tx, task, task.request_id, outcome)
        elif task.kind == "comparison_summary" and task.request_id:
            await self._record_plan_summary(tx, task, task.request_id, outcome)
        elif task.kind == "comparison_report" and task.request_id:
            await self._record_plan_report(tx, task, task.request_id, outcome)
        if task.notify and task.context is not None and task.kind != "sync":
            payload = ComparisonReady(
                task_kind=task.kind,
                model_id=task.model_id,
                task_id=task.anaplan_task_id,
                outcome=outcome,
                plan=task.context,
            )
            await tx.enqueue(task.notify, payload, f"comparison_ready:{task.id}")

    async def _record_sync_result(
        self, tx: Transaction, task: TrackedTask, request_id: str, outcome: TaskOutcome
    ) -> None:
        """The target's run ends as its task did; then the request goes on or ends (`Releases.conclude`)."""
        request = await tx.get_request(request_id)
        if request is None:
            return
        run = await tx.runs.by_task(task.anaplan_task_id)
        state: Literal["succeeded", "failed"] = "succeeded" if outcome.successful else "failed"
        detail = outcome.model_dump(mode="json", exclude_none=True, exclude={"verification"})
        moved: object | None
        if run is None:  # a request stored without target runs: its one task is its outcome
            moved = await self.lifecycle.transition(
                tx,
                request_id,
                {"executing"},
                state,
                action=f"sync_{state}",
                detail=detail,
                result=outcome,
                also=finished_notices(request_id, outcome),
            )
        else:
            moved = await self.lifecycle.move_run(
                tx, request, run, {"running"}, state, detail=detail, result=outcome
            )
            if moved is not None:
                await self.releases.conclude(tx, request_id)
        if moved is None:
            return
        self.directory.invalidate()
        if outcome.verification is not None:  # after the step it checks, in the audit's order
            action = "verified" if outcome.verification.verified else "verification_failed"
            facts = outcome.verification.model_dump(mode="json", exclude_none=True)
            await tx.audit(action, None, request_id=request_id, model_id=task.model_id, detail=facts)

    async def _record_plan_summary(
        self, tx: Transaction, task: TrackedTask, request_id: str, outcome: TaskOutcome
    ) -> None:
        fields = {"summary": outcome.summary, "summary_error": _summary_error(outcome)}
        await self._update_target(tx, task, request_id, fields, "summary")

    async def _record_plan_report(
        self, tx: Transaction, task: TrackedTask, request_id: str, outcome: TaskOutcome
    ) -> None:
        fields = {"report": outcome.report, "report_error": report_outcome_error(outcome)}
        await self._update_target(tx, task, request_id, fields, "report")

    async def _update_target(
        self,
        tx: Transaction,
        task: TrackedTask,
        request_id: str,
        fields: Mapping[str, object],
        moment: str,
    ) -> None:
        """Set the fields of the plan target this task computed for, with the radar's verdict once all it
        needs is in; redraw the card."""
        # Touch the row first: it is then locked, so a summary and a report recorded at once by two
        # watchers cannot both read the old plan and lose one another's update.
        if await tx.update_request(request_id) is None:
            return
        request = await tx.get_request(request_id)
        if request is None or request.plan.operation != "sync":
            return
        plan = request.plan
        targets = tuple(
            assessed(t.model_copy(update=dict(fields))) if _computed_for(t, task, len(plan.targets)) else t
            for t in plan.targets
        )
        updated = await tx.update_request(request.id, plan=plan.model_copy(update={"targets": targets}))
        moment = f"{moment}:{task.anaplan_task_id}" if plan.is_release else moment
        await self.lifecycle.enqueue(
            tx, updated or request, RequestUpdated(request_id=request.id), "card", moment=moment
        )


def _computed_for(target: SyncTarget, task: TrackedTask, count: int) -> bool:
    """Whether ``task`` (a comparison summary or report) was started for ``target``."""
    return count == 1 or task.anaplan_task_id in (target.summary_task_id, target.report_task_id)


def _summary_error(outcome: TaskOutcome) -> str | None:
    if outcome.successful:
        return outcome.summary_error
    return outcome.message or outcome.title or "Anaplan could not compute the change summary."
