"""A sync request run wave by wave: which targets start next, and when the request is done.

A plain sync is a release with one target and takes exactly this path. `Releases.advance` starts
the waiting targets of the lowest wave that has any (in parallel, at most ``parallel`` at once,
each through `TargetStarts.start`) and then `conclude`s. `conclude` — also called by the watcher's
recording in the transaction that ends a target's Anaplan task — decides, from the stored runs only:

- a target still starting or running → nothing to decide; the lease is given back (the watcher
  follows the tasks; recovery proves a start that is still unconfirmed);
- a target's stale-plan check could not be made → retried with backoff until the deadline;
- a target failed and ``on_failure = "stop"`` → the waiting targets are skipped and the request ends;
- targets still waiting → the lease is given back at once, and recovery starts the next wave;
- nothing left → the request ends: succeeded if every target did, failed otherwise, saying which.
"""

from __future__ import annotations

import logging
from typing import Final

import anyio

from alm_bot.errors import AnaplanError
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.ownership import Ownership
from alm_bot.operations.targets import TargetStarts
from alm_bot.records import NoticePayload, ReleaseNotesReady, SyncPlan, SyncVerified, TaskOutcome
from alm_bot.store import ACTIVE_RUN_STATES, ApprovalRequest, TargetRun, Transaction
from alm_bot.task_groups import first_error_of_group

__all__ = ["Releases", "finished_notices", "next_wave", "release_outcome"]

log = logging.getLogger("alm_bot.operations")

_CHECK_BACKOFF_MAX_SECONDS: Final = 60.0
DEFAULT_PARALLEL: Final = 4


class Releases:
    """Drives a sync request's target runs; the caller holds the request's lease."""

    def __init__(
        self,
        starts: TargetStarts,
        lifecycle: Lifecycle,
        ownership: Ownership,
        parallel: int = DEFAULT_PARALLEL,
    ) -> None:
        self.starts = starts
        self.lifecycle = lifecycle
        self.ownership = ownership
        self.parallel = max(1, parallel)
        self.clock = lifecycle.clock

    async def advance(self, request: ApprovalRequest) -> ApprovalRequest:
        """Start the next wave's waiting targets, then settle what that leaves; the request as now."""
        async with self.lifecycle.transaction() as tx:
            runs = await tx.runs.of_request(request.id)
        due = next_wave(runs)
        check_errors: list[AnaplanError] = []
        limiter = anyio.CapacityLimiter(self.parallel)

        async def start(run: TargetRun) -> None:
            async with limiter:
                result = await self.starts.start(request, run)
            if result.check_error is not None:
                check_errors.append(result.check_error)

        with first_error_of_group():
            async with anyio.create_task_group() as group:
                for run in due:
                    group.start_soon(start, run)
        async with self.lifecycle.transaction() as tx:
            await self.conclude(tx, request.id, check_error=check_errors[0] if check_errors else None)
            return await tx.get_request(request.id) or request

    async def conclude(
        self, tx: Transaction, request_id: str, *, check_error: AnaplanError | None = None
    ) -> None:
        """Decide from the stored runs what the request does next (see the module docstring)."""
        request = await tx.get_request(request_id)
        if request is None or not isinstance(request.plan, SyncPlan):
            return
        if request.state not in ("requested", "approved", "scheduled", "executing"):
            return
        runs = await tx.runs.of_request(request_id)
        if any(r.state in ACTIVE_RUN_STATES for r in runs):
            await tx.update_request(request_id, lease_owner=None)
            return
        if check_error is not None and await self._check_later(tx, request, runs, check_error):
            return
        runs = await tx.runs.of_request(request_id)
        failed = any(r.state == "failed" for r in runs)
        waiting = [r for r in runs if r.state == "waiting"]
        if waiting and failed and request.plan.on_failure == "stop":
            for run in waiting:
                await self.lifecycle.move_run(
                    tx, request, run, {"waiting"}, "skipped", detail={"after": "failure"}
                )
            waiting = []
        if waiting:
            # The wave is over and the next is due: recovery takes the request up at once.
            await tx.update_request(request_id, **self.ownership.released())
            return
        await self._finish(tx, request, await tx.runs.of_request(request_id))

    async def _check_later(
        self, tx: Transaction, request: ApprovalRequest, runs: list[TargetRun], error: AnaplanError
    ) -> bool:
        """The stale-plan check failed: retry with backoff; at the deadline the unchecked targets fail."""
        now = self.clock()
        if request.deadline_at is not None and now >= request.deadline_at:
            message = f"alm-bot could not re-check the plan before starting: {error}"
            outcome = TaskOutcome(successful=False, message=message, cause="check_failed")
            wave = min((r.wave for r in runs if r.state == "waiting"), default=None)
            for run in runs:
                if run.state == "waiting" and run.wave == wave:
                    await self.lifecycle.move_run(
                        tx,
                        request,
                        run,
                        {"waiting"},
                        "failed",
                        detail={"cause": "check_failed"},
                        result=outcome,
                    )
            return False
        retry_in = min(_CHECK_BACKOFF_MAX_SECONDS, 2.0 ** (request.attempts + 1))
        log.warning(
            "request %s: re-checking the plan failed, retry in %.0fs: %s", request.id, retry_in, error
        )
        await tx.update_request(
            request.id, **self.ownership.released(retry_in), attempts=request.attempts + 1
        )
        return True

    async def _finish(self, tx: Transaction, request: ApprovalRequest, runs: list[TargetRun]) -> None:
        counted = [r for r in runs if r.state != "dropped"]
        succeeded = bool(counted) and all(r.state == "succeeded" for r in counted)
        outcome = release_outcome(request, runs)
        also: list[tuple[NoticePayload, str]] = []
        if any(r.anaplan_task_id for r in runs):
            action = "sync_succeeded" if succeeded else "sync_failed"
            detail = outcome.model_dump(mode="json", exclude_none=True, exclude={"verification"})
            also = finished_notices(request.id, outcome)
        else:  # nothing started in Anaplan: why (stale, refused, unproven), as the request's failure
            action = "start_unproven" if outcome.cause == "start_unconfirmed" else "failed"
            detail = {"message": outcome.message, "cause": outcome.cause}
            if outcome.considered_task_ids is not None:
                detail["considered_task_ids"] = ", ".join(outcome.considered_task_ids)
        await self.lifecycle.transition(
            tx,
            request.id,
            {request.state},
            "succeeded" if succeeded else "failed",
            action=action,
            detail=detail,
            result=outcome,
            lease_owner=None,
            also=also,
        )


def finished_notices(request_id: str, outcome: TaskOutcome) -> list[tuple[NoticePayload, str]]:
    """What a finished sync adds to the card's thread: its verification, and its release notes."""
    also: list[tuple[NoticePayload, str]] = []
    if outcome.verification is not None:
        also.append((SyncVerified(request_id=request_id), "thread"))
    if outcome.successful:
        also.append((ReleaseNotesReady(request_id=request_id), "thread"))
    return also


def next_wave(runs: list[TargetRun]) -> list[TargetRun]:
    """The waiting runs of the lowest wave that has any (the wave that starts next)."""
    waiting = [r for r in runs if r.state == "waiting"]
    if not waiting:
        return []
    wave = min(r.wave for r in waiting)
    return [r for r in waiting if r.wave == wave]


def release_outcome(request: ApprovalRequest, runs: list[TargetRun]) -> TaskOutcome:
    """How the whole request ended: a plain sync's is its target's; a release's names each target."""
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    if not plan.is_release and runs and runs[0].result is not None:
        return runs[0].result
    names = {r.position: plan.targets[r.position].model.name for r in runs}
    synced = [names[r.position] for r in runs if r.state == "succeeded"]
    failed = [names[r.position] for r in runs if r.state == "failed"]
    skipped = [names[r.position] for r in runs if r.state == "skipped"]
    dropped = [names[r.position] for r in runs if r.state == "dropped"]
    parts = [f"Synced: {', '.join(synced) or 'none'}."]
    if failed:
        parts.append(f"Failed: {', '.join(failed)}.")
    if skipped:
        parts.append(f"Not started (stopped after a failure): {', '.join(skipped)}.")
    if dropped:
        parts.append(f"Dropped before approval: {', '.join(dropped)}.")
    first_failure = next((r.result for r in runs if r.state == "failed" and r.result is not None), None)
    return TaskOutcome(
        successful=not failed and not skipped and bool(synced),
        message=" ".join(parts),
        cause=first_failure.cause if first_failure else None,
        stale=first_failure.stale if first_failure else None,
    )
