"""What the data-loss radar's verdict means for an approval (pure: no I/O).

A plan the radar says loses data is approved only once the approver confirms what will be lost
(``confirmed``), and not at all where ``block_on_risk = "data-loss"`` applies to the target — per
model (``[models.<alias>]``), else ``[approval]``. While blocking applies, a plan whose verdict is
still being computed cannot be approved either (fail closed). The facts returned go into the
approval's audit event, so the audit shows what the approver confirmed.
"""

from __future__ import annotations

from typing import Any

from alm_bot.config import Settings
from alm_bot.errors import Action, NextStep, RiskRefused
from alm_bot.operations.preflight import waits_for
from alm_bot.records import SyncPlan
from alm_bot.store import ApprovalRequest

__all__ = ["blocks_on_risk", "check_risk", "is_blocked"]

_LOSSES_AUDITED = 20


def blocks_on_risk(settings: Settings, model_id: str) -> bool:
    """True when ``block_on_risk = "data-loss"`` applies to the model (any alias saying so wins)."""
    said = {m.block_on_risk for m in settings.models.values() if m.id.upper() == model_id.upper()}
    if "data-loss" in said:
        return True
    return "off" not in said and settings.approval.block_on_risk == "data-loss"


def is_blocked(request: ApprovalRequest, settings: Settings) -> bool:
    """True when this request's plan loses data and ``block_on_risk`` refuses such approvals."""
    plan = request.plan
    if not isinstance(plan, SyncPlan) or plan.target.risk is None or plan.target.risk.verdict != "data-loss":
        return False
    return blocks_on_risk(settings, request.target_model_id)


def check_risk(request: ApprovalRequest, *, confirmed: bool, settings: Settings) -> dict[str, Any]:
    """Raise `RiskRefused` when the radar stops this approval; else the audit's facts about the risk."""
    plan = request.plan
    if not isinstance(plan, SyncPlan):
        return {}
    target, name = plan.target, plan.target.model.name or request.target_model_id
    blocking = blocks_on_risk(settings, request.target_model_id)
    if target.risk is None:
        if blocking and waits_for(target):
            raise RiskRefused(
                f"The data-loss radar is still reading the comparison for request {request.id}, and "
                f'block_on_risk = "data-loss" applies to {name}: try again in a minute.',
                why="pending",
                request_id=request.id,
                model_name=name,
            )
        return {}
    if target.risk.verdict != "data-loss":
        return {"risk": target.risk.verdict}
    losses = [f.reason for f in target.risk.findings if f.verdict == "data-loss"]
    listed = "; ".join(losses[:3]) + (f"; and {len(losses) - 3} more" if len(losses) > 3 else "")
    if blocking:
        raise RiskRefused(
            f"Request {request.id} cannot be approved: the data-loss radar says it loses data in {name} "
            f'({listed}), and block_on_risk = "data-loss" applies to {name}. Reject it, or change the '
            "revision and ask again.",
            why="blocked",
            request_id=request.id,
            model_name=name,
            losses=losses,
        )
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
    return {"risk": "data-loss", "confirmed_risk": True, "losses": losses[:_LOSSES_AUDITED]}
