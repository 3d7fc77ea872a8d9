"""Recovery: settle requests whose owner is gone (its lease lapsed), from what the store and Anaplan show.

- ``approved`` (or an unprotected ``requested``): the executor died before the sync POST, or the
  stale-plan check failed and is due again. The approval stands: it is executed again from the
  stale-plan check (`Execution.execute`), which fails it with the reason once its deadline passed.
- ``scheduled``: its lease ran out at ``runs_at``, the opening of its change window; the replica
  that claims it (compare-and-set) executes it, from the window and stale-plan checks.
- ``executing`` with a target run still ``starting`` (no recorded task): the executor died around
  that target's POST. Ownership of an Anaplan task is proven, never guessed, per target run. A listed
  sync task of the target is this run's only if it was created after the intent recorded before the
  POST (the run's ``start_intent.sent_at``, less a small clock skew) and before any later intent on
  the same target, no other request claims it (the task id is unique in the store), and — once it
  has finished, when Anaplan shows revision ids — its revisions are the plan's. Anaplan shows no
  revisions for a running task, so a running candidate is waited for (bounded by the deadline).
  One proven task is adopted; otherwise the target run fails with the tasks it considered, and
  the release goes on or ends (`Releases.conclude`).
- ``executing`` with no run starting or running: a wave ended; the next one is started.

A status change is judged by the model's state now.
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
from alm_bot.records import StartIntent, StatusPlan, SyncPlan, SyncTarget, TaskOutcome
from alm_bot.store import ApprovalRequest, Store, TargetRun

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
        self.starts = execution.starts
        self.releases = execution.releases
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
                    return
                if not await self._prove_starts(request, request.plan):
                    return
        except AnaplanError as exc:
            log.warning("could not check request %s in Anaplan yet: %s", request.id, exc)
            await self._later(request)
            return
        except _StillProving:
            return
        await self.execution.execute(request)  # a wave ended (or none was started): the next is due

    async def _prove_starts(self, request: ApprovalRequest, plan: SyncPlan) -> bool:
        """Prove or fail each run that is still starting; True if none was (the next wave is due)."""
        runs = await self.store.list_runs(request.id)
        if runs and all(r.state == "waiting" for r in runs):
            runs = await self._as_starting(request, runs)
        starting = [r for r in runs if r.state == "starting"]
        for run in starting:
            await self._prove_sync(request, plan, run)
        if starting:
            async with self.store.transaction() as tx:
                await self.releases.conclude(tx, request.id)
        return not starting

    async def _settle_status_change(self, request: ApprovalRequest, plan: StatusPlan) -> None:
        model = await self.directory.refresh_one(request.target_model_id)
        if model.online == (plan.status == "online"):
            await self.execution.record_status_changed(request, plan)
            return
        message = _UNCONFIRMED_STATUS.format(id=request.id)
        outcome = TaskOutcome(successful=False, message=message, cause="start_unconfirmed")
        await self.execution.fail(request, {"executing"}, outcome)

    async def _as_starting(self, request: ApprovalRequest, runs: list[TargetRun]) -> list[TargetRun]:
        """Executing, yet no run ever left waiting: written before target runs (or by a process that
        died between the two writes). Its first target may have started: prove it, never start it."""
        first, lifecycle = runs[0], self.execution.lifecycle
        async with lifecycle.transaction() as tx:
            moved = await lifecycle.move_run(
                tx, request, first, {"waiting"}, "starting", start_intent=request.start_intent
            )
        return [moved or first, *runs[1:]]

    async def _prove_sync(self, request: ApprovalRequest, plan: SyncPlan, run: TargetRun) -> None:
        target = plan.targets[run.position]
        intent = run.start_intent or _assumed_intent(request, plan, target)
        listed = await self.client.alm(run.target_model_id).get_sync_tasks()
        window = await self._window(run, intent, listed)
        async with self.store.transaction() as tx:
            claimed = await tx.task_owners([t.task_id for t in window])
        candidates = [t for t in window if claimed.get(t.task_id) in (None, request.id)]
        proven, running = await self._matching(run, plan, target, candidates)
        now = self.clock()
        waiting = running or (not proven and now < intent.sent_at + _LATE_ARRIVAL)
        if len(proven) == 1 and not running:
            if await self.starts.record_started(request, run, proven[0], action="sync_adopted"):
                log.warning(
                    "request %s: adopted Anaplan task %s, started before a restart", request.id, proven[0]
                )
            return
        if waiting and (request.deadline_at is None or now < request.deadline_at):
            await self._later(request)
            raise _StillProving
        considered = tuple(t.task_id for t in window)
        listed_text = f"Tasks considered: {', '.join(considered)}." if considered else "No task was found."
        message = _UNPROVEN.format(id=request.id, considered=listed_text)
        outcome = TaskOutcome(
            successful=False, message=message, cause="start_unconfirmed", considered_task_ids=considered
        )
        await self.starts.fail(request, run, {"starting"}, outcome)

    async def _window(
        self, run: TargetRun, intent: StartIntent, listed: list[TaskSummary]
    ) -> list[TaskSummary]:
        """Tasks created after this run's intent and before the next intent on the same target."""
        start = intent.sent_at - _CLOCK_SKEW
        async with self.store.transaction() as tx:
            later = await tx.runs.next_intent_after(run, intent.sent_at)
        return [t for t in listed if t.creation_time >= start and (later is None or t.creation_time < later)]

    async def _matching(
        self, run: TargetRun, plan: SyncPlan, target: SyncTarget, candidates: list[TaskSummary]
    ) -> tuple[list[str], bool]:
        """The candidates whose finished result shows the plan's revisions; and whether one still runs."""
        proven: list[str] = []
        running = False
        alm = self.client.alm(run.target_model_id)
        for summary in candidates:
            task = await alm.get_sync_task(summary.task_id)
            if not isinstance(task, CompletedSyncTask):
                running = running or not task.is_finished
                continue
            shown = (task.result.source_revision_id, task.result.target_revision_id)
            if shown == (plan.source_revision.id, target.revision.id):
                proven.append(task.task_id)
        return proven, running

    async def _later(self, request: ApprovalRequest) -> None:
        async with self.store.transaction() as tx:
            released = self.ownership.released(_RECHECK_SECONDS)
            await tx.update_request(request.id, held_by=self.ownership.owner, **released)


def _assumed_intent(request: ApprovalRequest, plan: SyncPlan, target: SyncTarget) -> StartIntent:
    """For a request that went executing before intents were recorded: its decision, a minute early."""
    return StartIntent(
        sent_at=(request.decided_at or request.created_at) - timedelta(minutes=1),
        target_model_id=target.model.id,
        source_revision_id=plan.source_revision.id,
        target_revision_id=target.revision.id,
    )


class _StillProving(Exception):
    """A start is still being proven: the request was handed back for a later look."""
