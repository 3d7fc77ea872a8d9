"""Requests and decisions: asking for a change, approving, rejecting, withdrawing.

A sync into, or an online/offline change of, a protected model becomes a *pending request* that a
second person must approve (the rules are in `alm_bot.policy`); anything else runs at once. Exactly
one decision ever wins: each is a compare-and-set in the store.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any, Literal

from alm_bot.actor import Actor
from alm_bot.directory import ModelInfo
from alm_bot.errors import InvalidArgument
from alm_bot.notify import APPROVALS
from alm_bot.operations.approvals import Approvals
from alm_bot.operations.execution import Execution
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.ownership import Ownership
from alm_bot.operations.planning import model_ref, plan_record, plan_sync, start_plan_summary
from alm_bot.operations.preflight import assessed, start_plan_report
from alm_bot.operations.reads import Reads
from alm_bot.operations.risk_gate import RiskFacts, check_risk, is_blocked, may_override_risk
from alm_bot.operations.scheduling import check_may_override
from alm_bot.policy import check_may_cancel, check_may_decide, require_approvers
from alm_bot.records import DecidedOutsideSlack, NoticePayload, Plan, RiskOverridden, StatusPlan, SyncPlan
from alm_bot.store import ApprovalRequest, TaskKind

__all__ = ["Requests"]


class Requests:
    """Opens requests, records decisions and hands approved work to `Execution`."""

    def __init__(
        self,
        reads: Reads,
        lifecycle: Lifecycle,
        execution: Execution,
        ownership: Ownership,
        approvals: Approvals,
    ) -> None:
        self.reads = reads
        self.approvals = approvals
        self.lifecycle = lifecycle
        self.execution = execution
        self.ownership = ownership
        self.store = reads.store
        self.directory = reads.directory
        self.settings = execution.settings
        self.clock = execution.clock

    async def request_sync(
        self, source: str, target: str, revision: str | None = None, *, actor: Actor
    ) -> RequestOutcome:
        """Ask to sync a source revision (default: the newest syncable one) into the target model.

        Protected target → a pending request and an approval card. Otherwise the sync starts now.
        Either way a comparison summary is started so the plan (and the card) shows what changes.
        """
        plan = await plan_sync(self.reads.client, self.directory, source, target, revision)
        if plan.target.protected:
            self._require_approvers({plan.target.alias or plan.target.name: plan.target.id})
        summary_task_id = await start_plan_summary(self.reads.client, plan)
        report_task_id, report_error = await start_plan_report(self.reads.client, plan)  # the radar's
        parameters = {"source": source, "target": target, "revision": revision}
        record = plan_record(plan, summary_task_id=summary_task_id)
        record = record.model_copy(
            update={
                "targets": (
                    assessed(
                        record.target.model_copy(
                            update={"report_task_id": report_task_id, "report_error": report_error}
                        )
                    ),
                )
            }
        )
        request = await self._open_request("sync", parameters, record, plan.target, actor)
        tasks: list[tuple[TaskKind, str | None]] = [
            ("comparison_summary", summary_task_id),
            ("comparison_report", report_task_id),
        ]
        if summary_task_id or report_task_id:
            async with self.lifecycle.transaction() as tx:
                for kind, task_id in tasks:
                    if task_id:
                        await tx.track_task(
                            kind, plan.target.id, task_id, request_id=request.id, first_poll_at=self.clock()
                        )
        return await self._proceed(request, plan.target)

    async def request_status_change(
        self, model: str, status: Literal["online", "offline"], *, actor: Actor
    ) -> RequestOutcome:
        """Ask to take a model online or offline; protected models need approval first."""
        if status not in ("online", "offline"):
            raise InvalidArgument("status", f"status must be 'online' or 'offline', not {status!r}.")
        info = await self.directory.refresh_one((await self.reads.resolve(model)).id)
        if info.protected:
            self._require_approvers({info.alias or info.name: info.id})
        plan = StatusPlan(
            model=model_ref(info), from_state=info.active_state, status=status, protected=info.protected
        )
        request = await self._open_request(
            "change_status", {"model": model, "status": status}, plan, info, actor
        )
        return await self._proceed(request, info)

    async def decide(
        self,
        request_id: str,
        *,
        actor: Actor,
        approve: bool,
        reason: str | None = None,
        actor_groups: Collection[str] = (),
        confirmed_risk: bool = False,
        override_risk_reason: str | None = None,
    ) -> ApprovalRequest:
        """Approve or reject a pending request. Exactly one decision ever wins.

        Approval re-checks that the plan is still current, then starts the change. Rejection needs a
        reason. Refusals raise `NotAllowed` / `RequestNotPending` / `StalePlan` with a message to show.
        A plan the data-loss radar says loses data needs ``confirmed_risk`` (the approver saw what will
        be lost), and is refused where ``block_on_risk`` applies (`RiskRefused`, `risk_gate`) — unless
        an override approver gives ``override_risk_reason``: then it is audited ``risk_overridden``
        and posted in the approvals channel as an override.
        """
        request = await self.reads.get_request(request_id)
        now = self.clock()
        await self._check_may_decide(request, actor, actor_groups, now)
        risk = (
            check_risk(
                request,
                confirmed=confirmed_risk,
                settings=self.settings,
                override_reason=override_risk_reason,
                may_override=may_override_risk(self.settings, actor.id, actor_groups),
                overridden_before=await self._risk_overridden(request),
            )
            if approve
            else RiskFacts()
        )
        if not approve and not (reason or "").strip():
            raise InvalidArgument(
                "reason", "A rejection needs a reason, so the requester knows what to change."
            )
        if actor.break_glass and not (reason or "").strip():
            raise InvalidArgument(
                "reason", "A decision taken outside Slack (break-glass) needs a reason for the reviewers."
            )
        reason = (reason or "").strip() or None
        if risk.override_reason is not None:  # the override's reason is the approval's: the card shows it
            reason = reason or risk.override_reason
        decision = {
            "decided_by_id": actor.id,
            "decided_by_name": actor.decider_name,
            "decided_at": now,
            "reason": reason,
        }
        detail = {"reason": reason, **_break_glass(actor), **risk.audit()}
        # The approvers review what was decided around them (break-glass), in the card's thread.
        also: list[tuple[NoticePayload, str]] = (
            [(DecidedOutsideSlack(request_id=request.id), "card")] if actor.break_glass else []
        )
        events = _risk_override(request, actor, risk, also)
        if not approve:
            return await self.lifecycle.move(
                request, {"pending"}, "rejected", actor=actor, detail=detail, also=also, **decision
            )
        # Counted under the policy; the approver whose approval meets it moves the request on, and
        # that approver's process owns the execution from then on (lease and deadline).
        counted = await self.approvals.approve(
            request,
            actor,
            actor_groups,
            detail=detail,
            also=also,
            events=events,
            **decision,
            **self.ownership.taken(),
        )
        if counted.state != "approved":
            return counted
        return (await self.execution.execute(counted)).request

    async def _risk_overridden(self, request: ApprovalRequest) -> bool:
        """An earlier approval of this blocked request overrode ``block_on_risk`` (N-of-M policies)."""
        if not is_blocked(request, self.settings):
            return False
        events = await self.store.list_audit(request_id=request.id, limit=10_000)
        return any(e.action == "risk_overridden" for e in events)

    async def check_may_decide(
        self, request_id: str, *, actor: Actor, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        """Raise the refusal `decide` would give this actor now (for forms opened before deciding)."""
        request = await self.reads.get_request(request_id)
        await self._check_may_decide(request, actor, actor_groups, self.clock())
        return request

    def _require_approvers(self, targets: dict[str, str]) -> None:
        """Fail closed: the targets' policy must name somebody who can approve."""
        policy = self.approvals.policy_for(targets)
        require_approvers(self.settings.approval, policy.approvers())

    async def _check_may_decide(
        self, request: ApprovalRequest, actor: Actor, actor_groups: Collection[str], now: datetime
    ) -> None:
        """The policy's rule: an approver of one of its stages (or of its escalation, once due)."""
        counted = await self.approvals.progress(request)
        approvers = counted.policy.approvers(escalated=counted.escalated)
        check_may_decide(request, actor, actor_groups, self.settings.approval, now, approvers=approvers)

    async def override(
        self, request_id: str, *, actor: Actor, reason: str, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        """An override approver runs a scheduled request now, outside its change window, with a reason.

        Audited and posted in the approvals channel; the plan is re-checked before the start as always.
        """
        request = await self.reads.get_request(request_id)
        reason = (reason or "").strip()
        check_may_override(request, actor, actor_groups, self.settings, reason)
        scheduling = self.execution.scheduling
        taken = await scheduling.take_for_override(request, actor, reason, _break_glass(actor))
        return (await self.execution.execute(taken)).request

    async def check_may_override(
        self, request_id: str, *, actor: Actor, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        """Raise the refusal `override` would give this actor now, the reason aside (for its form)."""
        request = await self.reads.get_request(request_id)
        check_may_override(request, actor, actor_groups, self.settings, None)
        return request

    async def cancel(self, request_id: str, *, actor: Actor) -> ApprovalRequest:
        """The requester withdraws a pending request, one waiting for its change window, or a release
        that preflight blocked."""
        request = await self.reads.get_request(request_id)
        runs = await self.store.list_runs(request.id)
        blocked = request.state == "requested" and any(
            r.blocked_reason and r.state == "waiting" for r in runs
        )
        # A blocked release was never pending, a scheduled request was approved: the requester's
        # rule is the same as for a pending one.
        waiting = blocked or request.state == "scheduled"
        check_may_cancel(request.model_copy(update={"state": "pending"}) if waiting else request, actor)
        return await self.lifecycle.move(
            request,
            {"requested"} if blocked else {"pending", "scheduled"},
            "cancelled",
            actor=actor,
            decided_by_id=actor.id,
            decided_by_name=actor.name,
            decided_at=self.clock(),
        )

    async def open_request(
        self,
        parameters: dict[str, Any],
        plan: SyncPlan,
        target: ModelInfo,
        actor: Actor,
        blocked: dict[int, str] | None = None,
    ) -> ApprovalRequest:
        """Store a sync request (a release) with its target runs; see `_open_request`."""
        return await self._open_request("sync", parameters, plan, target, actor, blocked)

    async def _open_request(
        self,
        operation: Literal["sync", "change_status"],
        parameters: dict[str, Any],
        plan: Plan,
        target: ModelInfo,
        actor: Actor,
        blocked: dict[int, str] | None = None,
    ) -> ApprovalRequest:
        """Store the request (and a sync's target runs); ``blocked`` targets keep it ``requested``."""
        now = self.clock()
        protected = plan.protected
        # An unprotected request runs at once: this process owns it from the start.
        lease = {} if protected or blocked else self.ownership.taken()
        async with self.lifecycle.transaction() as tx:
            request = await tx.insert_request(
                ApprovalRequest(
                    operation=operation,
                    parameters=parameters,
                    plan=plan,
                    target_model_id=target.id,
                    requester_id=actor.id,
                    requester_name=actor.name,
                    origin=actor.origin,
                    state="requested",
                    created_at=now,
                    expires_at=now + self.settings.approval.expires_after,
                    **lease,
                )
            )
            if isinstance(plan, SyncPlan):
                await tx.runs.insert(request.id, plan, blocked)
            await tx.audit(
                "requested",
                actor,
                request_id=request.id,
                model_id=target.id,
                detail={"operation": operation, "protected": protected},
            )
            if protected and not blocked:
                request = await self.lifecycle.transition(tx, request.id, {"requested"}, "pending") or request
        return request

    async def proceed(self, request: ApprovalRequest, target: ModelInfo | None = None) -> RequestOutcome:
        """After opening (or once nothing is blocked): wait for approval, or start now."""
        return await self._proceed(request, target)

    async def _proceed(self, request: ApprovalRequest, target: ModelInfo | None) -> RequestOutcome:
        if request.state == "pending":
            approvers = self.approvals.policy_of(request).approvers()  # the policy's, stage by stage
            return RequestOutcome(request, "awaiting_approval", [*approvers.users, *approvers.groups])
        return await self.execution.execute(request, target)


def _break_glass(actor: Actor) -> dict[str, object]:
    """The audit's record of a decision taken outside Slack: marked, with who ran the command."""
    return {"break_glass": True, "run_by": actor.run_by} if actor.break_glass else {}


def _risk_override(
    request: ApprovalRequest,
    actor: Actor,
    risk: RiskFacts,
    also: list[tuple[NoticePayload, str]],
) -> list[tuple[str, dict[str, Any]]]:
    """An approval past ``block_on_risk``: its own audit event, and a post in the approvals channel."""
    reason = risk.override_reason
    if reason is None:
        return []
    also.append(
        (
            RiskOverridden(request_id=request.id, by_id=actor.id, by_name=actor.decider_name, reason=reason),
            APPROVALS,
        )
    )
    return [("risk_overridden", {"reason": reason, "losses": risk.audited_losses, **_break_glass(actor)})]
