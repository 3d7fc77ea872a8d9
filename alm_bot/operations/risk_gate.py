"""What the data-loss radar's verdict means for an approval (pure: no I/O).

A plan the radar says loses data is approved only once the approver confirms what will be lost
(``confirmed``), and not at all where ``block_on_risk = "data-loss"`` applies to the target — per
model (``[models.<alias>]``), else ``[approval]``. While blocking applies, a plan whose verdict is
still being computed cannot be approved either (fail closed). The facts returned go into the
approval's audit event, so the audit shows what the approver confirmed.

The one way past ``block_on_risk``, as for change windows: a member of ``[approval]
override_approvers`` approves with a reason (``override_reason``), after the same confirmation.
The facts then carry ``risk_overridden`` and the reason; `Requests.decide` audits a separate
``risk_overridden`` event and posts the override in the approvals channel.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from alm_bot.config import Settings
from alm_bot.errors import Action, NextStep, RiskRefused
from alm_bot.operations.preflight import waits_for
from alm_bot.records import SyncPlan, SyncTarget
from alm_bot.store import ApprovalRequest

__all__ = ["RiskFacts", "blocks_on_risk", "check_risk", "is_blocked", "may_override_risk"]

_LOSSES_AUDITED = 20


@dataclass(frozen=True)
class RiskFacts:
    """What the approval's audit records about the radar's verdict (empty: no verdict to record).

    ``override_reason`` is set when an override approver approved past ``block_on_risk``;
    ``verdicts`` (a release) is each target's verdict by model name.
    """

    verdict: str | None = None
    confirmed: bool = False
    losses: tuple[str, ...] = ()
    override_reason: str | None = None
    verdicts: Mapping[str, str] | None = field(default=None)

    @property
    def overridden(self) -> bool:
        return self.override_reason is not None

    @property
    def audited_losses(self) -> list[str]:
        return list(self.losses[:_LOSSES_AUDITED])

    def audit(self) -> dict[str, Any]:
        """The facts as the approval's audit detail words them."""
        facts: dict[str, Any] = {} if self.verdict is None else {"risk": self.verdict}
        if self.confirmed:
            facts["confirmed_risk"] = True
        if self.confirmed or self.losses:
            facts["losses"] = self.audited_losses
        if self.overridden:
            facts |= {"risk_overridden": True, "override_reason": self.override_reason}
        if self.verdicts is not None:
            facts["risks"] = dict(self.verdicts)
        return facts


def blocks_on_risk(settings: Settings, model_id: str) -> bool:
    """True when ``block_on_risk = "data-loss"`` applies to the model (any alias saying so wins)."""
    said = {m.block_on_risk for m in settings.models.values() if m.id.upper() == model_id.upper()}
    if "data-loss" in said:
        return True
    return "off" not in said and settings.approval.block_on_risk == "data-loss"


def is_blocked(request: ApprovalRequest, settings: Settings) -> bool:
    """True when this request's plan loses data and ``block_on_risk`` refuses such approvals."""
    plan = request.plan
    if not isinstance(plan, SyncPlan):
        return False
    return any(
        t.risk is not None
        and t.risk.verdict == "data-loss"
        and blocks_on_risk(settings, _model_id(request, t))
        for t in plan.targets
    )


def _model_id(request: ApprovalRequest, target: SyncTarget) -> str:
    return target.model.id or request.target_model_id


def may_override_risk(settings: Settings, actor_id: str, actor_groups: Collection[str]) -> bool:
    """True when the person (or one of their groups) is in ``[approval] override_approvers``."""
    allowed = settings.approval.override_approvers
    return actor_id in allowed or not set(actor_groups).isdisjoint(allowed)


def check_risk(
    request: ApprovalRequest,
    *,
    confirmed: bool,
    settings: Settings,
    override_reason: str | None = None,
    may_override: bool = False,
    overridden_before: bool = False,
) -> RiskFacts:
    """Raise `RiskRefused` when the radar stops this approval; else the audit's facts about the risk.

    ``override_reason``: the approver asks to approve past ``block_on_risk`` (allowed only when
    ``may_override``; without blocking it is not needed and ignored). ``overridden_before``: an
    override approver already overrode the block (an N-of-M policy's earlier approval): the other
    approvals then need only the confirmation.
    """
    plan = request.plan
    if not isinstance(plan, SyncPlan):
        return RiskFacts()
    # A release: every target is checked (the first refusal wins); the facts of the target whose
    # block was overridden, else of one that loses data, else of the first go into the audit, with
    # each target's verdict beside them.
    found = [
        _check_target(request, t, confirmed, settings, override_reason, may_override, overridden_before)
        for t in plan.targets
    ]
    overridden = [f for f in found if f.overridden]
    facts = next(iter(overridden or [f for f in found if f.verdict == "data-loss"]), found[0])
    if plan.is_release:
        verdicts = {t.model.name: t.risk.verdict for t in plan.targets if t.risk is not None}
        losses = tuple(loss for f in found for loss in f.losses)
        facts = replace(facts, verdicts=verdicts, losses=losses or facts.losses)
    return facts


def _check_target(
    request: ApprovalRequest,
    target: SyncTarget,
    confirmed: bool,
    settings: Settings,
    override_reason: str | None,
    may_override: bool,
    overridden_before: bool = False,
) -> RiskFacts:
    name = target.model.name or _model_id(request, target)
    blocking = blocks_on_risk(settings, _model_id(request, target)) and not overridden_before
    if target.risk is None:
        if blocking and waits_for(target):
            raise RiskRefused(
                f"The data-loss radar is still reading the comparison for request {request.id}, and "
                f'block_on_risk = "data-loss" applies to {name}: try again in a minute.',
                why="pending",
                request_id=request.id,
                model_name=name,
            )
        return RiskFacts()
    if target.risk.verdict != "data-loss":
        return RiskFacts(verdict=target.risk.verdict)
    losses = [f.reason for f in target.risk.findings if f.verdict == "data-loss"]
    listed = "; ".join(losses[:3]) + (f"; and {len(losses) - 3} more" if len(losses) > 3 else "")
    reason = (override_reason or "").strip()
    overriding = blocking and may_override and bool(reason)
    if blocking and not overriding:
        _refuse_blocked(request, name, listed, losses, may_override=may_override, asked=bool(reason))
    if not confirmed:
        raise RiskRefused(
            f"Request {request.id} loses data in {name}: {listed}. The approval counts only once you "
            "confirm that.",
            why="unconfirmed",
            request_id=request.id,
            model_name=name,
            losses=losses,
            next_step=NextStep(Action.CONFIRM_DATA_LOSS, request.id),
        )
    override = reason if overriding else None
    return RiskFacts(verdict="data-loss", confirmed=True, losses=tuple(losses), override_reason=override)


def _refuse_blocked(
    request: ApprovalRequest, name: str, listed: str, losses: list[str], *, may_override: bool, asked: bool
) -> None:
    """``block_on_risk`` refuses: say whether this person could override it (and how), or not."""
    # An override approver is told how by the front end's wording of the next step.
    how = (
        " Only the override approvers ([approval] override_approvers) may approve it anyway."
        if asked and not may_override
        else ""
    )
    raise RiskRefused(
        f"Request {request.id} cannot be approved: the data-loss radar says it loses data in {name} "
        f'({listed}), and block_on_risk = "data-loss" applies to {name}. Reject it, or change the '
        f"revision and ask again.{how}",
        why="blocked",
        request_id=request.id,
        model_name=name,
        losses=losses,
        overridable=may_override,
        next_step=NextStep(Action.OVERRIDE_RISK, request.id) if may_override else None,
    )
