"""Starting one target of a sync request: the stale-plan check, the intent, the sync POST, the record.

`TargetStarts.start` is run per waiting target of the current wave (in parallel, bounded, by
`alm_bot.operations.releases.Releases`), while the caller holds the request's lease::

    GET latestRevision of the target           stale → run failed (facts: planned/current)
                                                error → run stays waiting; retried with backoff
    one transaction: request lease still ours (approved → executing the first time, with the
                     start intent and deadline), run waiting → starting + start_intent
                     (its answer lost with the connection → asked again: `_claim_surely`)
    POST syncTasks                              refused → run failed; uncertain → run stays starting
                                                (recovery proves it, `operations.recovery`)
    one transaction: run starting → running + anaplan_task_id (unique), tracked task, audit, card

A second replica cannot start the same target: both the request's lease and the run's state are
compared-and-set in the transaction before the POST.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Final

import anyio

from alm_bot.anaplan import AnaplanClient
from alm_bot.backoff import Backoff
from alm_bot.directory import ModelDirectory
from alm_bot.errors import AlmBotError, AnaplanError, StalePlan, StoreUnavailable, TaskCreationUncertain
from alm_bot.evidence.digest import with_plan_digest
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.ownership import LEASE, PROOF_DEADLINE, Ownership
from alm_bot.records import RequestUpdated, StalePlanFacts, StartIntent, SyncPlan, SyncTarget, TaskOutcome
from alm_bot.store import ApprovalRequest, TargetRun

__all__ = ["StartResult", "TargetStarts"]

log = logging.getLogger("alm_bot.operations")

_ASK_AGAIN: Final = Backoff(first=0.1, cap=1.0)  # the database, after it lost the answer to a claim


@dataclass(frozen=True)
class StartResult:
    """How starting one target went; ``check_error``: the stale-plan check could not be made."""

    run: TargetRun
    check_error: AnaplanError | None = None


class TargetStarts:
    """Starts the sync of one target run."""

    def __init__(
        self, client: AnaplanClient, directory: ModelDirectory, lifecycle: Lifecycle, ownership: Ownership
    ) -> None:
        self.client = client
        self.directory = directory
        self.lifecycle = lifecycle
        self.ownership = ownership
        self.clock = lifecycle.clock

    async def start(self, request: ApprovalRequest, run: TargetRun) -> StartResult:
        plan = request.plan
        assert isinstance(plan, SyncPlan)
        target = plan.targets[run.position]
        try:
            await self._check_not_stale(request, target)
        except StalePlan as stale:
            facts = StalePlanFacts(
                model_id=stale.model_id,
                model_name=stale.model_name,
                planned=stale.planned,
                current=stale.current,
            )
            outcome = TaskOutcome(successful=False, message=str(stale), cause="stale_plan", stale=facts)
            return StartResult(await self.fail(request, run, {"waiting"}, outcome))
        except AnaplanError as exc:
            return StartResult(run, check_error=exc)
        intent = StartIntent(
            sent_at=self.clock(),
            target_model_id=target.model.id,
            source_revision_id=plan.source_revision.id,
            target_revision_id=target.revision.id,
        )
        starting = await self._claim_surely(request, run, intent)
        if starting is None:
            return StartResult(run)  # the lease or the run moved on: someone else has it
        try:
            task = await self.client.alm(target.model.id).sync_models(
                plan.source_revision.id, plan.source.id, target.revision.id, wait_for_completion=False
            )
        except TaskCreationUncertain as exc:
            log.warning(
                "request %s, target %s: %s; recovery will look for the task", request.id, run.position, exc
            )
            return StartResult(starting)
        except AlmBotError as exc:
            refused = TaskOutcome(successful=False, message=str(exc), cause="start_refused")
            return StartResult(await self.fail(request, starting, {"starting"}, refused))
        recorded = await self.record_started(request, starting, task.task_id, action="sync_started")
        return StartResult(recorded or starting)

    async def _check_not_stale(self, request: ApprovalRequest, target: SyncTarget) -> None:
        model = target.model
        latest = await self.client.alm(model.id).get_latest_revision()
        if latest is None or latest.id != target.revision.id:
            now_at = latest.name if latest else "no revision"
            label = f"{model.name} ({model.alias})" if model.alias else model.name
            raise StalePlan(
                f"The plan is stale: {label} moved from revision "
                f"{target.revision.name!r} to {now_at!r} since request {request.id} "
                "was made. Nothing was changed; request the sync again.",
                model_id=model.id,
                model_name=model.name,
                planned=target.revision.name,
                current=now_at,
            )

    async def _claim_surely(
        self, request: ApprovalRequest, run: TargetRun, intent: StartIntent
    ) -> TargetRun | None:
        """`_claim`; when the database's answer to it was lost, find out whether it happened.

        A connection dropped at the commit (a failover, a blip) leaves the claim unknown. Left so, a
        committed intent with no POST behind it would be failed by recovery as unprovable, although
        this process knows it never sent the POST. So, once the database answers again (within a
        quarter of a lease, while the lease is surely still ours): the run starting with this very
        intent and the lease ours → the claim happened, go on; the run still waiting → it did not,
        claim again; anything else → someone else has it. Still no database → its error, as before.
        """
        lost: StoreUnavailable | None = None
        with anyio.move_on_after(LEASE.total_seconds() / 4):
            for attempt in itertools.count(1):
                if lost is None:
                    try:
                        return await self._claim(request, run, intent)
                    except StoreUnavailable as exc:
                        lost = exc
                await anyio.sleep(_ASK_AGAIN.delay(attempt))
                try:
                    happened, claimable = await self._claimed(request, run, intent)
                except StoreUnavailable:
                    continue
                if not claimable:
                    return happened
                lost = None  # the claim did not happen: try it again
        assert lost is not None
        raise lost

    async def _claimed(
        self, request: ApprovalRequest, run: TargetRun, intent: StartIntent
    ) -> tuple[TargetRun | None, bool]:
        """After a lost answer: (the run, if the claim with ``intent`` happened; may it be claimed now)."""
        async with self.lifecycle.transaction() as tx:
            current = await tx.get_request(request.id)
            mine = next((r for r in await tx.runs.of_request(request.id) if r.id == run.id), None)
        if current is None or mine is None:
            return None, False
        ours = current.lease_owner == self.ownership.owner and (
            current.lease_expires_at is not None and current.lease_expires_at > self.clock()
        )
        if ours and mine.state == "starting" and mine.start_intent == intent:
            log.warning("request %s: target %s was claimed; the answer was lost", request.id, run.position)
            return mine, False
        return None, mine.state == "waiting" and current.lease_owner in (None, self.ownership.owner)

    async def _claim(self, request: ApprovalRequest, run: TargetRun, intent: StartIntent) -> TargetRun | None:
        """Lease still ours → run waiting → starting with its intent (and the request executing)."""
        now = self.clock()
        owner = self.ownership.owner
        async with self.lifecycle.transaction() as tx:
            current = await tx.get_request(request.id)
            if current is None:
                return None
            if current.state in ("approved", "requested", "scheduled"):
                held = await self.lifecycle.transition(
                    tx,
                    request.id,
                    {current.state},
                    "executing",
                    detail=with_plan_digest(),  # what is about to run, to compare with what was approved
                    held_by=owner,
                    start_intent=intent,
                    deadline_at=now + PROOF_DEADLINE,
                )
            else:
                held = await tx.update_request(
                    request.id, held_by=owner, lease_expires_at=now + LEASE, deadline_at=now + PROOF_DEADLINE
                )
            if held is None:
                return None
            return await self.lifecycle.move_run(tx, held, run, {"waiting"}, "starting", start_intent=intent)

    async def fail(
        self, request: ApprovalRequest, run: TargetRun, from_states: set[str], outcome: TaskOutcome
    ) -> TargetRun:
        """The target did not take the sync (stale, refused, unproven): its run ends failed."""
        detail = {"message": outcome.message, "cause": outcome.cause}
        async with self.lifecycle.transaction() as tx:
            current = await tx.get_request(request.id) or request
            failed = await self.lifecycle.move_run(
                tx, current, run, from_states, "failed", detail=detail, result=outcome
            )
        return failed or run

    async def record_started(
        self, request: ApprovalRequest, run: TargetRun, task_id: str, *, action: str
    ) -> TargetRun | None:
        """The run owns Anaplan task ``task_id``: remember it (unique), follow it, redraw the card."""
        async with self.lifecycle.transaction() as tx:
            current = await tx.get_request(request.id)
            if current is None or current.state != "executing":
                return None
            running = await self.lifecycle.move_run(
                tx, current, run, {"starting"}, "running", anaplan_task_id=task_id
            )
            if running is None:
                log.warning("request %s: target %s was recorded meanwhile", request.id, run.position)
                return None
            if current.anaplan_task_id is None:  # the request's first task: its card has a thread now
                current = await tx.update_request(request.id, anaplan_task_id=task_id) or current
            await tx.track_task(
                "sync", run.target_model_id, task_id, request_id=request.id, first_poll_at=self.clock()
            )
            await tx.audit(
                action, None, request_id=request.id, model_id=run.target_model_id, detail={"task_id": task_id}
            )
            moment = (
                f"started:{run.position}"
                if request.plan.operation == "sync" and request.plan.is_release
                else None
            )
            await self.lifecycle.enqueue(
                tx, current, RequestUpdated(request_id=request.id), "card", moment=moment
            )
        return running
