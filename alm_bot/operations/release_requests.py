"""Release requests: ask to ship one source revision into several targets, and drop blocked targets.

A release is a sync request with several targets (`SyncPlan.targets`, with their waves); once
opened it takes exactly the path of a plain sync — pending and approved as one, executed wave by
wave (`alm_bot.operations.releases`). What is particular to a release is the preflight: a target
that cannot take the sync keeps the request ``requested`` (nobody is asked yet) until its requester
drops the blocked targets (`ReleaseRequests.drop_targets`) or cancels.
"""

from __future__ import annotations

from collections.abc import Sequence

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.errors import InvalidArgument, NotAllowed, Refusal, RequestNotPending
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.planning import start_target_summary
from alm_bot.operations.preflight import start_target_report
from alm_bot.operations.release_planning import ReleaseSpec, plan_release
from alm_bot.operations.requests import Requests
from alm_bot.policy import require_approvers
from alm_bot.records import SyncPlan
from alm_bot.store import ApprovalRequest, TaskKind

__all__ = ["ReleaseRequests", "ReleaseSpec", "release_spec"]


def release_spec(
    settings: Settings, source_or_group: str, targets: Sequence[str] = (), revision: str | None = None
) -> ReleaseSpec:
    """What a front end was asked: a configured ``[releases.<name>]`` group (no targets), or a source
    and its targets (one wave, run in parallel)."""
    if targets:
        return ReleaseSpec(source_or_group, (tuple(targets),), revision)
    group = settings.releases.get(source_or_group) or settings.releases.get(source_or_group.casefold())
    if group is None:
        known = ", ".join(sorted(settings.releases)) or "none is configured"
        raise InvalidArgument(
            "targets",
            f"{source_or_group!r} is no release group ({known}). Name a group, or a source and its targets.",
        )
    name = source_or_group.casefold() if source_or_group not in settings.releases else source_or_group
    return ReleaseSpec(group.source, group.waves, revision, group.on_failure, name)


class ReleaseRequests:
    """Opens release requests and resolves their blocked targets."""

    def __init__(self, requests: Requests) -> None:
        self.requests = requests
        self.reads = requests.reads
        self.lifecycle = requests.lifecycle
        self.store = requests.store
        self.clock = requests.clock

    async def request_release(self, spec: ReleaseSpec, *, actor: Actor) -> RequestOutcome:
        """Plan and preflight every target; blocked ones are reported, the rest wait for approval."""
        planned = await plan_release(self.reads.client, self.reads.directory, self.store, spec)
        if planned.plan.protected:
            require_approvers(self.requests.settings.approval)
        targets = []
        for position, target in enumerate(planned.plan.targets):
            fields: dict[str, str | None] = {"summary_task_id": None}
            if position not in planned.blocked:
                fields["summary_task_id"] = await start_target_summary(
                    self.reads.client, planned.plan, target
                )
                if planned.targets[position].protected:  # the radar reads every protected target's report
                    report = await start_target_report(self.reads.client, planned.plan, target)
                    fields["report_task_id"], fields["report_error"] = report
            targets.append(target.model_copy(update=fields))
        plan = planned.plan.model_copy(update={"targets": tuple(targets)})
        parameters = {
            "source": spec.source,
            "targets": [list(w) for w in spec.waves],
            "revision": spec.revision,
            "release": spec.name,
        }
        first = planned.targets[0]
        request = await self.requests.open_request(parameters, plan, first, actor, planned.blocked)
        async with self.lifecycle.transaction() as tx:
            for target in plan.targets:
                tasks: list[tuple[TaskKind, str | None]] = [
                    ("comparison_summary", target.summary_task_id),
                    ("comparison_report", target.report_task_id),
                ]
                for kind, task_id in tasks:
                    if task_id:
                        await tx.track_task(
                            kind, target.model.id, task_id, request_id=request.id, first_poll_at=self.clock()
                        )
        if planned.blocked:
            return RequestOutcome(request, "blocked", [])
        return await self.requests.proceed(request)

    async def drop_targets(self, request_id: str, targets: Sequence[str], *, actor: Actor) -> RequestOutcome:
        """The requester drops targets of a blocked release; once none is blocked it goes on."""
        request = await self.reads.get_request(request_id)
        if actor.id != request.requester_id:
            raise NotAllowed(
                f"Only the requester, {request.requester_name}, can drop targets of request {request.id}.",
                reason=Refusal.NOT_THE_REQUESTER,
                request_id=request.id,
            )
        plan = request.plan
        if request.state != "requested" or not isinstance(plan, SyncPlan):
            raise RequestNotPending(
                f"Request {request.id} is {request.state}; targets can be dropped only while preflight "
                "holds it.",
                state=request.state,
            )
        wanted = {(await self.reads.resolve(name)).id for name in targets}
        runs = await self.store.list_runs(request.id)
        unknown = wanted - {r.target_model_id for r in runs}
        if unknown:
            raise InvalidArgument(
                "targets", f"Request {request.id} has no such target: {', '.join(unknown)}."
            )
        async with self.lifecycle.transaction() as tx:
            for run in runs:
                if run.target_model_id in wanted and run.state == "waiting":
                    detail = {"by": actor.id, "by_name": actor.name}
                    await self.lifecycle.move_run(tx, request, run, {"waiting"}, "dropped", detail=detail)
        return await self._go_on(request, actor)

    async def _go_on(self, request: ApprovalRequest, actor: Actor) -> RequestOutcome:
        runs = await self.store.list_runs(request.id)
        if any(r.state == "waiting" and r.blocked_reason for r in runs):
            return RequestOutcome(request, "blocked", [])
        if all(r.state == "dropped" for r in runs):
            cancelled = await self.lifecycle.move(
                request,
                {"requested"},
                "cancelled",
                actor=actor,
                decided_by_id=actor.id,
                decided_by_name=actor.name,
                decided_at=self.clock(),
            )
            return RequestOutcome(cancelled, "cancelled", [])
        if request.plan.protected:
            pending = await self.lifecycle.move(request, {"requested"}, "pending")
            return await self.requests.proceed(pending)
        async with self.lifecycle.transaction() as tx:
            taken = await tx.update_request(request.id, **self.requests.ownership.taken())
        return await self.requests.proceed(taken or request)
