"""Scheduling: approved work waits for its change window; an override approver may run it now.

The path of a request approved while its window is closed::

    execution.Execution.execute → Scheduling.closed (alm_bot.windows.decide_all over every target)
        closed → Scheduling.schedule: approved → scheduled        [audit "scheduled", card redrawn]
                 runs_at stored; lease given back, running out at runs_at; deadline runs_at + 10 min
    watcher → recovery.Recovery.settle (list_unsettled: the lease ran out at runs_at)
        Ownership.claim (compare-and-set: one replica wins) → Execution.execute again
        → window re-checked (still closed: rescheduled) → stale-plan check → scheduled → executing
    Scheduling.override (an ``override_approvers`` member, with a reason)
        take the waiting request (compare-and-set), audit "window_overridden", post in the approvals
        channel, then Execution.execute, which skips the window for an overridden request.

Without ``[[windows]]`` nothing here runs: `closed` answers None at once.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.errors import InvalidArgument, NotAllowed, Refusal, RequestNotPending
from alm_bot.notify import APPROVALS, CARD
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.ownership import CHECK_DEADLINE, LEASE, Ownership
from alm_bot.records import RequestUpdated, SyncPlan, WindowHold, WindowOverridden
from alm_bot.store import ApprovalRequest, TargetRun
from alm_bot.windows import WindowDecision, WindowState, decide, decide_all, overview

_NO_WINDOW_RECHECK: Final = timedelta(days=1)  # no window opens within a year: look again tomorrow

__all__ = [
    "Scheduling",
    "WindowReport",
    "check_may_override",
    "model_names",
    "target_names",
    "window_report",
]


@dataclass(frozen=True)
class WindowReport:
    """What ``windows [MODEL]`` shows: each window that applies, and (for a model) the decision now."""

    model: str | None
    states: list[WindowState]
    decision: WindowDecision | None
    now: datetime


def model_names(settings: Settings, model_id: str) -> set[str]:
    """How windows may name a model: its id and every configured alias of it."""
    aliases = {a for a, m in settings.models.items() if m.id.upper() == model_id.upper()}
    return {model_id, *aliases}


def target_names(settings: Settings, request: ApprovalRequest) -> list[set[str]]:
    """The names of every target model of a request (a release has several)."""
    plan = request.plan
    if isinstance(plan, SyncPlan):
        return [model_names(settings, t.model.id or request.target_model_id) for t in plan.targets]
    return [model_names(settings, request.target_model_id)]


def check_may_override(
    request: ApprovalRequest,
    actor: Actor,
    actor_groups: Collection[str],
    settings: Settings,
    reason: str | None,
) -> None:
    """Refuse unless ``actor`` may run this scheduled request now, outside its window, with a reason.

    ``reason`` None: everything but the reason (for a form opened before it is written).
    """
    if request.state != "scheduled":
        raise RequestNotPending(
            f"Request {request.id} is not waiting for a change window (it is {request.state}).",
            state=request.state,
            decided_by=request.decided_by_name,
        )
    allowed = settings.approval.override_approvers
    if actor.id not in allowed and set(actor_groups).isdisjoint(allowed):
        raise NotAllowed(
            f"Only the override approvers ([approval] override_approvers) may run request {request.id} "
            "outside its change window.",
            reason=Refusal.NOT_AN_OVERRIDE_APPROVER,
            request_id=request.id,
        )
    if reason is not None and not reason.strip():
        raise InvalidArgument("reason", "An override needs a reason: the approvers review every override.")


class Scheduling:
    """Holds requests whose change window is closed, and lets override approvers run them now."""

    def __init__(
        self, lifecycle: Lifecycle, ownership: Ownership, settings: Settings, clock: Callable[[], datetime]
    ) -> None:
        self.lifecycle = lifecycle
        self.ownership = ownership
        self.settings = settings
        self.clock = clock

    def closed(self, request: ApprovalRequest) -> WindowDecision | None:
        """The decision that holds this request now; None when it may start (or was overridden)."""
        if not self.settings.windows:
            return None
        if request.window is not None and request.window.overridden_by_id is not None:
            return None
        decision = decide_all(
            self.settings.change_windows, target_names(self.settings, request), self.clock()
        )
        return None if decision.may_run else decision

    def note(self, request: ApprovalRequest) -> WindowDecision | None:
        """The window decision to show on a card now (None: no window applies to its targets)."""
        if not self.settings.windows:
            return None
        decision = decide_all(
            self.settings.change_windows, target_names(self.settings, request), self.clock()
        )
        applies = decision.deciding is not None or not decision.may_run
        return decision if applies else None

    def _decide(self, request: ApprovalRequest) -> WindowDecision:
        names = target_names(self.settings, request)
        return decide_all(self.settings.change_windows, names, self.clock())

    async def schedule(self, request: ApprovalRequest, decision: WindowDecision) -> ApprovalRequest:
        """Wait for the window: ``scheduled`` (or, already scheduled, a later ``runs_at``), lease given back.

        The lease runs out at ``runs_at``: that is when the watcher of one replica claims it.
        """
        runs_at = decision.runs_at
        if runs_at is None:
            raise ValueError("a request with no window ahead is failed, not scheduled")
        hold = WindowHold(reason=decision.reason, zone=decision.zone.key)
        fields = {
            "runs_at": runs_at,
            "window": hold,
            "lease_owner": None,
            "lease_expires_at": runs_at,
            "deadline_at": runs_at + CHECK_DEADLINE,
            "attempts": 0,
        }
        detail = {"runs_at": runs_at.isoformat(), "zone": hold.zone, "reason": hold.reason}
        owner = self.ownership.owner
        if request.state != "scheduled":
            return await self.lifecycle.move(
                request, {request.state}, "scheduled", held_by=owner, detail=detail, **fields
            )
        async with self.lifecycle.transaction() as tx:
            later = await tx.update_request(request.id, held_by=owner, **fields)
            if later is None:
                raise await self.lifecycle.not_pending(tx, request.id)
            await tx.audit("rescheduled", None, request.id, request.target_model_id, detail)
            moment = f"rescheduled:{runs_at.isoformat()}"
            await self.lifecycle.enqueue(tx, later, RequestUpdated(request_id=later.id), CARD, moment=moment)
        return later

    async def take_for_override(
        self, request: ApprovalRequest, actor: Actor, reason: str, audit: dict[str, object]
    ) -> ApprovalRequest:
        """Take the waiting request for this process (compare-and-set), recording who overrode and why."""
        now = self.clock()
        hold = (request.window or WindowHold(reason="")).model_copy(
            update={
                "overridden_by_id": actor.id,
                "overridden_by_name": actor.decider_name,
                "override_reason": reason,
                "overridden_at": now,
            }
        )
        async with self.lifecycle.transaction() as tx:
            taken = await tx.take_scheduled(
                request.id, self.ownership.owner, now + LEASE, window=hold, deadline_at=now + CHECK_DEADLINE
            )
            if taken is None:
                current = await tx.get_request(request.id)
                state = current.state if current is not None else "unknown"
                raise RequestNotPending(
                    f"Request {request.id} is no longer waiting for its change window (it is {state}).",
                    state=state,
                )
            waited = request.runs_at.isoformat() if request.runs_at else None
            detail = {"reason": reason, "runs_at": waited, "window": hold.reason, **audit}
            await tx.audit("window_overridden", actor, taken.id, taken.target_model_id, detail)
            notice = WindowOverridden(request_id=taken.id)
            await self.lifecycle.enqueue(tx, taken, notice, APPROVALS, moment="override")
            await self.lifecycle.enqueue(
                tx, taken, RequestUpdated(request_id=taken.id), CARD, moment="override"
            )
        return taken

    def wave_closed(self, request: ApprovalRequest, due: Sequence[TargetRun]) -> WindowDecision | None:
        """The decision that holds a release's next wave now (its targets' windows); None: it may start.

        An override of the request's window covers its later waves too."""
        if not self.settings.windows or not due:
            return None
        if request.window is not None and request.window.overridden_by_id is not None:
            return None
        names = [model_names(self.settings, r.target_model_id) for r in due]
        decision = decide_all(self.settings.change_windows, names, self.clock())
        return None if decision.may_run else decision

    async def hold_wave(self, request: ApprovalRequest, decision: WindowDecision) -> ApprovalRequest:
        """Keep the next wave waiting (the request stays ``executing``): the lease runs out at the
        opening, when recovery takes the request up and starts the wave (window re-checked then)."""
        runs_at = decision.runs_at or self.clock() + _NO_WINDOW_RECHECK
        hold = WindowHold(reason=decision.reason, zone=decision.zone.key)
        detail = {"runs_at": runs_at.isoformat(), "zone": hold.zone, "reason": hold.reason}
        async with self.lifecycle.transaction() as tx:
            held = await tx.update_request(
                request.id,
                runs_at=runs_at,
                window=hold,
                lease_owner=None,
                lease_expires_at=runs_at,
                deadline_at=runs_at + CHECK_DEADLINE,
                attempts=0,
            )
            if held is None:
                raise await self.lifecycle.not_pending(tx, request.id)
            await tx.audit("wave_scheduled", None, request.id, request.target_model_id, detail)
            moment = f"wave_scheduled:{runs_at.isoformat()}"
            await self.lifecycle.enqueue(tx, held, RequestUpdated(request_id=held.id), CARD, moment=moment)
        return held

    def report(self, model: str | None) -> WindowReport:
        """Each window (that applies to ``model``, an alias or id), open now or next, and the decision."""
        return window_report(self.settings, model, self.clock())


def window_report(settings: Settings, model: str | None, now: datetime) -> WindowReport:
    """`Scheduling.report` from the configuration alone (the CLI needs no database or Anaplan for it)."""
    windows = settings.change_windows
    if model is None:
        states = [WindowState(w, w.occurrence_at(now), w.first_after(now)) for w in windows]
        return WindowReport(None, states, None, now)
    configured = settings.models.get(model)
    names = model_names(settings, configured.id) if configured else {model}
    return WindowReport(model, overview(windows, names, now), decide(windows, names, now), now)
