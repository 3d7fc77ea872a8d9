"""Recovery: settle requests whose owner is gone (its lease lapsed), from what the store and Anaplan show.

- ``approved`` (or an unprotected ``requested``): the executor died before the sync POST, or the
  stale-plan check failed and is due again. The approval stands: it is executed again from the
  stale-plan check (`Execution.execute`), which fails it with the reason once its deadline passed.
- ``scheduled``: its lease ran out at ``runs_at``, the opening of its change window; the replica
  that claims it (compare-and-set) executes it, from the window and stale-plan checks.
- ``executing`` without a recorded task: the executor died around the POST. Ownership of an
  Anaplan task is proven, never guessed. A listed sync task of the target is this request's only if
  it was created after the intent recorded before the POST (``start_intent.sent_at``, less a small
  clock skew) and before any later intent on the same target, no other request claims it (the task id
  is unique in the store), and — once it has finished, when Anaplan shows revision ids — its
  revisions are the plan's. Anaplan shows no revisions for a running task, so a running candidate
  is waited for (bounded by the deadline). One proven task is adopted; otherwise the request fails
  with the tasks it considered. A status change is judged by the model's state now.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Final

from alm_bot.anaplan import AnaplanClient, TaskSummary
from alm_bot.anaplan.models import CompletedSyncTask
from alm_bot.directory import ModelDirectory
from alm_bot.errors import AnaplanError
from alm_bot.operations.execution import Execution
from alm_bot.operations.ownership import Ownership
from alm_bot.records import StartIntent, StatusPlan, SyncPlan, TaskOutcome
from alm_bot.store import ApprovalRequest, Store

__all__ = ["Recovery"]

log = logging.getLogger("alm_bot.operations")

_CLOCK_SKEW: Final = timedelta(seconds=2)
# A POST sent just before the process died can still be carried out by Anaplan for a short while.
_LATE_ARRIVAL: Final = timedelta(seconds=15)
_RECHECK_SECONDS: Final = 5.0

_UNPROVEN = (
    "alm-bot stopped while starting this sync and cannot prove whether it started; check the target's "
    "sync tasks. Request {id} is marked failed rather than risk running it twice. {considered}"
)
_UNCONFIRMED_STATUS = (
    "alm-bot stopped while starting this status change and Anaplan shows no sign of it, so request {id} "
    "is marked failed rather than risk running it twice. Check the target model in Anaplan, then request "
    "it again if it is still needed."
)


class Recovery:
    """The watcher's way to settle requests nobody holds."""

    def __init__(
        self, client: AnaplanClient, store: Store, directory: ModelDirectory, execution: Execution
    ) -> None:
        self.client = client
        self.store = store
        self.directory = directory
        self.execution = execution
        self.ownership: Ownership = execution.ownership
        self.clock = execution.clock

    async def settle(self, now: datetime) -> int:
        """Settle every request whose lease lapsed; returns how many this process took up."""
        taken = 0
        for request in await self.store.list_unsettled(now):
            if not await self.ownership.claim(request.id):
                continue  # another process took it first
            taken += 1
            current = await self.store.get_request(request.id)
            if current is not None:
                await self._settle(current)
        return taken

    async def _settle(self, request: ApprovalRequest) -> None:
        if request.state == "scheduled":
            log.info("request %s: its change window opens; re-checking the window and the plan", request.id)
            await self.execution.execute(request)
            return
        if request.state in ("approved", "requested"):
            log.warning(
                "request %s: its executor is gone; executing it again from the plan check", request.id
            )
            await self.execution.execute(request)
            return
        try:
            async with self.ownership.renewing(request.id):
                if isinstance(request.plan, StatusPlan):
                    await self._settle_status_change(request, request.plan)
                else:
                    await self._prove_sync(request, request.plan)
        except AnaplanError as exc:
            log.warning("could not check request %s in Anaplan yet: %s", request.id, exc)
            await self._later(request)

    async def _settle_status_change(self, request: ApprovalRequest, plan: StatusPlan) -> None:
        model = await self.directory.refresh_one(request.target_model_id)
        if model.online == (plan.status == "online"):
            await self.execution.record_status_changed(request, plan)
            return
        message = _UNCONFIRMED_STATUS.format(id=request.id)
        outcome = TaskOutcome(successful=False, message=message, cause="start_unconfirmed")
        await self.execution.fail(request, {"executing"}, outcome)

    async def _prove_sync(self, request: ApprovalRequest, plan: SyncPlan) -> None:
        intent = request.start_intent or _assumed_intent(request, plan)
        listed = await self.client.alm(request.target_model_id).get_sync_tasks()
        window = await self._window(request, intent, listed)
        async with self.store.transaction() as tx:
            claimed = await tx.task_owners([t.task_id for t in window])
        candidates = [t for t in window if claimed.get(t.task_id) in (None, request.id)]
        proven, running = await self._matching(request, plan, candidates)
        now = self.clock()
        waiting = running or (not proven and now < intent.sent_at + _LATE_ARRIVAL)
        if len(proven) == 1 and not running:
            if await self.execution.record_started(request, proven[0], action="sync_adopted"):
                log.warning(
                    "request %s: adopted Anaplan task %s, started before a restart", request.id, proven[0]
                )
            return
        if waiting and (request.deadline_at is None or now < request.deadline_at):
            await self._later(request)
            return
        considered = tuple(t.task_id for t in window)
        listed_text = f"Tasks considered: {', '.join(considered)}." if considered else "No task was found."
        message = _UNPROVEN.format(id=request.id, considered=listed_text)
        outcome = TaskOutcome(
            successful=False, message=message, cause="start_unconfirmed", considered_task_ids=considered
        )
        await self.execution.fail(request, {"executing"}, outcome, action="start_unproven")

    async def _window(
        self, request: ApprovalRequest, intent: StartIntent, listed: list[TaskSummary]
    ) -> list[TaskSummary]:
        """Tasks created after this request's intent and before the next intent on the same target."""
        start = intent.sent_at - _CLOCK_SKEW
        later = await self._next_intent(request, intent)
        return [t for t in listed if t.creation_time >= start and (later is None or t.creation_time < later)]

    async def _next_intent(self, request: ApprovalRequest, intent: StartIntent) -> datetime | None:
        others = await self.store.list_requests(
            states={"executing", "succeeded", "failed"}, model_id=request.target_model_id, limit=200
        )
        moments = [
            r.start_intent.sent_at
            for r in others
            if r.id != request.id and r.start_intent is not None and r.start_intent.sent_at > intent.sent_at
        ]
        return min(moments) if moments else None

    async def _matching(
        self, request: ApprovalRequest, plan: SyncPlan, candidates: list[TaskSummary]
    ) -> tuple[list[str], bool]:
        """The candidates whose finished result shows the plan's revisions; and whether one still runs."""
        proven: list[str] = []
        running = False
        alm = self.client.alm(request.target_model_id)
        for summary in candidates:
            task = await alm.get_sync_task(summary.task_id)
            if not isinstance(task, CompletedSyncTask):
                running = running or not task.is_finished
                continue
            shown = (task.result.source_revision_id, task.result.target_revision_id)
            if shown == (plan.source_revision.id, plan.target.revision.id):
                proven.append(task.task_id)
        return proven, running

    async def _later(self, request: ApprovalRequest) -> None:
        async with self.store.transaction() as tx:
            released = self.ownership.released(_RECHECK_SECONDS)
            await tx.update_request(request.id, held_by=self.ownership.owner, **released)


def _assumed_intent(request: ApprovalRequest, plan: SyncPlan) -> StartIntent:
    """For a request that went executing before intents were recorded: its decision, a minute early."""
    return StartIntent(
        sent_at=(request.decided_at or request.created_at) - timedelta(minutes=1),
        target_model_id=plan.target.model.id,
        source_revision_id=plan.source_revision.id,
        target_revision_id=plan.target.revision.id,
    )
