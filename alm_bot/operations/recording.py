"""Recording what Anaplan finished: a sync's outcome, a plan's change summary, a comparison someone asked for.

`finish` marks the tracked task finished and records what follows in the same transaction, so the
outcome, its audit event and its notices commit together, exactly once. A successful sync also
records its verification (audit ``verified`` or ``verification_failed``, a thread notice) and sends
its release notes to the card's thread.
"""

from __future__ import annotations

from alm_bot.directory import ModelDirectory
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.records import (
    ComparisonReady,
    NoticePayload,
    ReleaseNotesReady,
    RequestUpdated,
    SyncVerified,
    TaskOutcome,
)
from alm_bot.store import RequestState, TrackedTask, Transaction

__all__ = ["Recording"]


class Recording:
    """Turns a finished tracked task into request state, audit events and notices."""

    def __init__(self, lifecycle: Lifecycle, directory: ModelDirectory) -> None:
        self.lifecycle = lifecycle
        self.directory = directory

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
            await self._record_sync_result(tx, task.request_id, outcome)
        elif task.kind == "comparison_summary" and task.request_id:
            await self._record_plan_summary(tx, task.request_id, outcome)
        if task.notify and task.context is not None and task.kind != "sync":
            payload = ComparisonReady(
                task_kind=task.kind,
                model_id=task.model_id,
                task_id=task.anaplan_task_id,
                outcome=outcome,
                plan=task.context,
            )
            await tx.enqueue(task.notify, payload, f"comparison_ready:{task.id}")

    async def _record_sync_result(self, tx: Transaction, request_id: str, outcome: TaskOutcome) -> None:
        state: RequestState = "succeeded" if outcome.successful else "failed"
        detail = outcome.model_dump(mode="json", exclude_none=True, exclude={"verification"})
        verification = outcome.verification
        also: list[tuple[NoticePayload, str]] = []
        if verification is not None:
            also.append((SyncVerified(request_id=request_id), "thread"))
        if outcome.successful:
            also.append((ReleaseNotesReady(request_id=request_id), "thread"))
        moved = await self.lifecycle.transition(
            tx,
            request_id,
            {"executing"},
            state,
            action=f"sync_{state}",
            detail=detail,
            result=outcome,
            also=also,
        )
        if moved is None:
            return
        self.directory.invalidate()
        if verification is not None:
            action = "verified" if verification.verified else "verification_failed"
            facts = verification.model_dump(mode="json", exclude_none=True)
            await tx.audit(action, None, request_id=moved.id, model_id=moved.target_model_id, detail=facts)

    async def _record_plan_summary(self, tx: Transaction, request_id: str, outcome: TaskOutcome) -> None:
        request = await tx.get_request(request_id)
        if request is None or request.plan.operation != "sync":
            return
        plan = request.plan
        target = plan.target.model_copy(
            update={"summary": outcome.summary, "summary_error": _summary_error(outcome)}
        )
        updated = await tx.update_request(request.id, plan=plan.model_copy(update={"targets": (target,)}))
        await self.lifecycle.enqueue(
            tx, updated or request, RequestUpdated(request_id=request.id), "card", moment="summary"
        )


def _summary_error(outcome: TaskOutcome) -> str | None:
    if outcome.successful:
        return outcome.summary_error
    return outcome.message or outcome.title or "Anaplan could not compute the change summary."
