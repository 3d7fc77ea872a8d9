"""A release's targets and outcome in the MCP shapes (`alm_bot.mcp.release_schemas`). No I/O."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from alm_bot.mcp.release_schemas import ReleaseOutcome, TargetModelOut, TargetOut

if TYPE_CHECKING:
    from alm_bot.operations import RequestOutcome
    from alm_bot.store import ApprovalRequest, TargetRun

__all__ = ["release_outcome", "targets_out"]


def targets_out(request: ApprovalRequest, runs: Sequence[TargetRun]) -> list[TargetOut] | None:
    """Each target and where it stands; None for a plain sync or a status change (one target)."""
    plan = request.plan
    if plan.operation != "sync" or not plan.is_release:
        return None
    by_position = {r.position: r for r in runs}
    shown = []
    for position, target in enumerate(plan.targets):
        run = by_position.get(position)
        totals = target.summary.totals if target.summary is not None else None
        shown.append(
            TargetOut(
                position=position,
                wave=target.wave + 1,
                model=TargetModelOut(id=target.model.id, name=target.model.name, alias=target.model.alias),
                current_revision=target.revision.name or None,
                state=run.state if run is not None else "waiting",
                blocked_reason=run.blocked_reason if run is not None and run.state == "waiting" else None,
                created=totals.created if totals else None,
                modified=totals.modified if totals else None,
                deleted=totals.deleted if totals else None,
                task_id=run.anaplan_task_id if run is not None else None,
                message=(
                    run.result.message
                    if run is not None and run.result and not run.result.successful
                    else None
                ),
            )
        )
    return shown


def release_outcome(outcome: RequestOutcome, runs: Sequence[TargetRun]) -> ReleaseOutcome:
    request = outcome.request
    plan = request.plan
    assert plan.operation == "sync"
    targets = targets_out(request, runs) or []
    blocked = [t.model.id for t in targets if t.blocked_reason]
    return ReleaseOutcome(
        status=outcome.status,
        request_id=request.id,
        message=_message(outcome, len(plan.targets), len(blocked)),
        revision=plan.source_revision.name,
        targets=targets,
        blocked=blocked,
        approvers=outcome.approvers if outcome.status == "awaiting_approval" else [],
        expires_at=request.expires_at if outcome.status == "awaiting_approval" else None,
    )


def _message(outcome: RequestOutcome, count: int, blocked: int) -> str:
    rid = outcome.request.id
    match outcome.status:
        case "blocked":
            return (
                f"Request {rid}: {blocked} of {count} targets cannot take the sync (see blocked_reason). "
                f"Nobody has been asked yet. Call alm_drop_release_targets with request_id {rid!r} to go "
                "on without them, or alm_cancel_request to withdraw it."
            )
        case "awaiting_approval":
            return (
                f"Request {rid} (a release into {count} targets) awaits approval in Slack; nothing "
                "changed yet. You cannot approve it; tell the user. Follow it with alm_get_request."
            )
        case "started":
            return f"Release {rid} started its first wave. Follow every target with alm_get_request."
        case "cancelled":
            return f"Every target was dropped, so request {rid} is cancelled. Nothing was changed."
    message = outcome.request.result.message if outcome.request.result else None
    return f"Release {rid} {outcome.status}. {message or ''}".strip()
