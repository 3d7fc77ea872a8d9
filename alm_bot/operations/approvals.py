"""Approvals under a policy: counting each person's approval, reminding, escalating.

`Approvals.approve` is one transaction: lock the pending request (`alm_bot.store.approvals`), add the
approver's row (the key (request, person) makes a repeat count once), count under the request's
policy and, only when the count is met, move ``pending → approved`` through the lifecycle — so the
approval that completes the count and the transition commit together, whichever replica got it.
An approval that does not complete it is audited (``approval_counted``) and redraws the card.

`Approvals.nudge_due` is the watcher's step: a pending request past ``remind_after`` gets one
reminder, past ``escalate_after`` one escalation; each is claimed by a row first, so two replicas
(or two passes) never send it twice.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from alm_bot.actor import Actor
from alm_bot.approval_policy import (
    Approval,
    ApprovalProgress,
    EffectivePolicy,
    policy_for,
    progress,
)
from alm_bot.config import Settings
from alm_bot.errors import ApprovalNotCounted, Refusal
from alm_bot.evidence.digest import with_plan_digest
from alm_bot.notify import CARD, user_destination
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.records import ApprovalEscalated, ApprovalReminder, NoticePayload, RequestUpdated, SyncPlan
from alm_bot.store import ApprovalRequest, Store, Transaction
from alm_bot.store.approvals import (
    ApprovalNudge,
    ApprovalRow,
    NudgeKind,
    add_approval,
    approvals_query,
    claim_nudge,
    lock_pending,
    nudge_candidates_query,
    nudges_query,
)

__all__ = ["Approvals", "request_policy", "stored_progress"]

_NUDGE_BATCH: Final = 200


class Approvals:
    """The policy applied to stored requests: progress, approvals, reminders and escalations."""

    def __init__(self, store: Store, settings: Settings, lifecycle: Lifecycle) -> None:
        self.store = store
        self.settings = settings
        self.lifecycle = lifecycle
        self.clock: Callable[[], datetime] = lifecycle.clock

    # --- the rules --------------------------------------------------------------------------------

    def policy_for(self, model_ids: Mapping[str, str]) -> EffectivePolicy:
        """The effective policy for targets (label → model id): the strictest of theirs."""
        return policy_for(self.settings, model_ids)

    def policy_of(self, request: ApprovalRequest) -> EffectivePolicy:
        return request_policy(self.settings, request)

    def _shortest_nudge(self) -> timedelta | None:
        """The shortest reminder or escalation time any policy sets (None: none does, and the
        watcher's step costs nothing)."""
        approval = self.settings.approval
        pairs = [(m.remind_after, m.escalate_after) for m in self.settings.models.values()]
        pairs.append((approval.remind_after, approval.escalate_after))
        return min((d for pair in pairs for d in pair if d is not None), default=None)

    async def progress(self, request: ApprovalRequest) -> ApprovalProgress:
        """Where ``request`` stands against its policy, as stored now."""
        return await stored_progress(self.store, self.settings, request)

    # --- approving --------------------------------------------------------------------------------

    async def approve(
        self,
        request: ApprovalRequest,
        actor: Actor,
        actor_groups: Collection[str],
        *,
        detail: Mapping[str, Any],
        also: Sequence[tuple[NoticePayload, str]],
        events: Sequence[tuple[str, Mapping[str, Any]]] = (),
        **move: Any,
    ) -> ApprovalRequest:
        """Count ``actor``'s approval; the request, approved if that met the policy, else still pending.

        Raises `ApprovalNotCounted` (nothing stored) for a repeat, or when no open stage takes them.
        """
        now = self.clock()
        policy = self.policy_of(request)
        async with self.lifecycle.transaction() as tx:
            locked = await lock_pending(tx, request.id, now)
            if locked is None:
                raise await self.lifecycle.not_pending(tx, request.id)
            added = await add_approval(tx, locked.id, actor.id, actor.decider_name, actor_groups, now)
            counted = await self._progress_in(tx, locked.id, policy)
            if not added or not counted.counts(actor.id):
                raise _not_counted(locked.id, counted, already=not added)
            facts = {} if policy.plain else _facts(counted, actor.id)
            for event, event_detail in events:  # e.g. risk_overridden: audited with the approval
                await tx.audit(event, actor, locked.id, locked.target_model_id, dict(event_detail))
            if counted.met:
                moved = await self.lifecycle.transition(
                    tx,
                    locked.id,
                    {"pending"},
                    "approved",
                    actor=actor,
                    detail=with_plan_digest({**detail, **facts}),
                    also=also,
                    **move,
                )
                if moved is None:
                    raise await self.lifecycle.not_pending(tx, locked.id)
                return moved
            counted_detail = with_plan_digest({**detail, **facts})(locked)  # each approval covers this plan
            await tx.audit("approval_counted", actor, locked.id, locked.target_model_id, counted_detail)
            moment = f"approval:{counted.counted}"
            await self.lifecycle.enqueue(
                tx, locked, RequestUpdated(request_id=locked.id), CARD, moment=moment
            )
            for payload, audience in also:
                await self.lifecycle.enqueue(tx, locked, payload, audience, moment=moment)
        return locked

    async def _progress_in(
        self, tx: Transaction, request_id: str, policy: EffectivePolicy
    ) -> ApprovalProgress:
        rows = await tx.select(ApprovalRow, approvals_query(request_id))
        nudges = await tx.select(ApprovalNudge, nudges_query([request_id]))
        return _progress(policy, rows, nudges)

    # --- reminders and escalation (the watcher) ---------------------------------------------------

    async def nudge_due(self, now: datetime) -> int:
        """Remind and escalate the pending requests that are due; how many nudges were sent."""
        shortest = self._shortest_nudge()
        if shortest is None:
            return 0
        candidates = nudge_candidates_query(now, shortest, _NUDGE_BATCH)
        pending = await self.store.select(ApprovalRequest, candidates)
        done = {
            (n.request_id, n.kind)
            for n in await self.store.select(ApprovalNudge, nudges_query([r.id for r in pending]))
        }
        sent = 0
        for request in pending:
            policy = self.policy_of(request)
            after = {
                "reminder": policy.remind_after,
                "escalation": policy.escalate_after if policy.escalates else None,
            }
            for kind, delay in after.items():
                if delay is None or (request.id, kind) in done or request.created_at + delay > now:
                    continue
                if request.expires_at is not None and request.expires_at <= now:
                    continue  # expiry comes first: an expired request is never reminded
                sent += await self._nudge(request, kind, policy, now)  # type: ignore[arg-type]
        return sent

    async def _nudge(
        self, request: ApprovalRequest, kind: NudgeKind, policy: EffectivePolicy, now: datetime
    ) -> bool:
        async with self.lifecycle.transaction() as tx:
            locked = await lock_pending(tx, request.id, now)
            if locked is None or not await claim_nudge(tx, request.id, kind, now):
                return False
            counted = await self._progress_in(tx, locked.id, policy)
            if kind == "reminder":
                who = counted.still_possible()
                detail = {"still_possible": [*who.users, *who.groups], **_facts(counted, None)}
                await tx.audit("reminded", None, locked.id, locked.target_model_id, detail)
                await self.lifecycle.enqueue(
                    tx, locked, ApprovalReminder(request_id=locked.id), CARD, moment=kind
                )
                return True
            to = policy.escalate_to
            await tx.audit(
                "escalated", None, locked.id, locked.target_model_id, {"escalate_to": [*to.users, *to.groups]}
            )
            await self.lifecycle.enqueue(
                tx, locked, ApprovalEscalated(request_id=locked.id), CARD, moment=kind
            )
            await self.lifecycle.enqueue(tx, locked, RequestUpdated(request_id=locked.id), CARD, moment=kind)
            for user in to.users:
                await tx.enqueue(
                    user_destination(user),
                    ApprovalEscalated(request_id=locked.id),
                    f"escalated:{user}:{locked.id}",
                )
        return True


def request_policy(settings: Settings, request: ApprovalRequest) -> EffectivePolicy:
    """The policy of a request: the strictest of its targets' (every target of a release)."""
    plan = request.plan
    refs = [t.model for t in plan.targets] if isinstance(plan, SyncPlan) else [plan.model]
    return policy_for(settings, {(r.alias or r.name or r.id): r.id or request.target_model_id for r in refs})


async def stored_progress(store: Store, settings: Settings, request: ApprovalRequest) -> ApprovalProgress:
    """Where ``request`` stands against its policy, as stored now (reads only the database)."""
    rows = await store.select(ApprovalRow, approvals_query(request.id))
    nudges = await store.select(ApprovalNudge, nudges_query([request.id]))
    return _progress(request_policy(settings, request), rows, nudges)


def _progress(
    policy: EffectivePolicy, rows: Sequence[ApprovalRow], nudges: Sequence[ApprovalNudge]
) -> ApprovalProgress:
    approvals = [Approval(r.approver_id, r.approver_name, r.at, frozenset(r.groups)) for r in rows]
    when = {n.kind: n.at for n in nudges}
    return progress(policy, approvals, reminded_at=when.get("reminder"), escalated_at=when.get("escalation"))


def _facts(counted: ApprovalProgress, person_id: str | None) -> dict[str, Any]:
    """What the audit records of a count: how many of how many, and the stage the person counted in."""
    facts: dict[str, Any] = {"approvals": counted.counted, "required": counted.required}
    for number, stage in enumerate(counted.stages, start=1):
        if counted.policy.staged and any(a.person_id == person_id for a in stage.approved_by):
            facts["stage"] = number
    return facts


def _not_counted(request_id: str, counted: ApprovalProgress, *, already: bool) -> ApprovalNotCounted:
    tally = f"It has {counted.counted} of {counted.required} approvals."
    if already:
        message = (
            f"You have already approved request {request_id}; an approval counts once per person. {tally}"
        )
    else:
        message = (
            f"Your approval would not count for request {request_id}: the stages you can approve in "
            f"are complete. {tally}"
        )
    return ApprovalNotCounted(
        message,
        reason=Refusal.ALREADY_APPROVED if already else Refusal.STAGES_COMPLETE,
        request_id=request_id,
        approvals=counted.counted,
        required=counted.required,
        still_possible=counted.still_possible(),
    )
