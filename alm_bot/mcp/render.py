"""Turns the core's objects into the MCP layer's output models (`schemas`).

Pure functions, no I/O. The core's types are imported for type checking only, so that importing
the MCP server does not import the Anaplan client or the store (``alm-bot mcp`` starts fast).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from alm_bot.mcp.release_render import targets_out
from alm_bot.mcp.risk_schemas import RiskOut
from alm_bot.mcp.schemas import (
    ApprovalsOut,
    ApprovalStageOut,
    ModelOut,
    ModelRef,
    ModelRevisionOut,
    Person,
    RequestOut,
    RequestResult,
    RevisionOut,
    RevisionRef,
    SummaryCountsOut,
    SummaryOut,
    TaskOut,
    TaskResultOut,
    TaskSummaryOut,
    WindowOut,
)

if TYPE_CHECKING:
    from alm_bot.anaplan.models import (
        CompletedReportTask,
        CompletedSyncTask,
        ModelRevision,
        PendingTask,
        Revision,
        SummaryReport,
        TaskSummary,
    )
    from alm_bot.approval_policy import Approval, ApprovalProgress
    from alm_bot.directory import ModelInfo
    from alm_bot.records import ModelRef as PlanModel
    from alm_bot.records import RevisionRef as PlanRevision
    from alm_bot.records import TaskOutcome
    from alm_bot.store import ApprovalRequest, TargetRun

__all__ = [
    "approvals_out",
    "model_out",
    "model_ref",
    "model_revision_out",
    "request_out",
    "revision_out",
    "state_explained",
    "succeeded",
    "summary_out",
    "task_out",
    "task_summary_out",
]

_STATES: Final = {
    "requested": "Being prepared; not yet waiting for a decision.",
    "pending": "Waiting for an approver to approve or reject it in Slack. Nothing has changed yet.",
    "approved": "Approved; the change is about to start.",
    "scheduled": "Approved, but its change window is closed: it starts at runs_at. Nothing has changed yet.",
    "executing": "Approved or not needing approval; the change is running in Anaplan.",
    "succeeded": "Done: the change succeeded.",
    "failed": "The change failed; see result for why. Nothing more will happen.",
    "rejected": "An approver rejected it; see reason. Nothing was changed.",
    "expired": "Nobody decided in time, so it expired. Nothing was changed; ask again if still needed.",
    "cancelled": "The requester withdrew it. Nothing was changed.",
}


def model_ref(info: ModelInfo) -> ModelRef:
    return ModelRef(id=info.id, name=info.name, alias=info.alias)


def model_out(info: ModelInfo) -> ModelOut:
    return ModelOut.model_validate(info, from_attributes=True)


def revision_out(rev: Revision) -> RevisionOut:
    return RevisionOut.model_validate(rev, from_attributes=True)


def model_revision_out(item: ModelRevision) -> ModelRevisionOut:
    return ModelRevisionOut.model_validate(item, from_attributes=True)


def task_summary_out(task: TaskSummary) -> TaskSummaryOut:
    return TaskSummaryOut.model_validate(task, from_attributes=True)


def task_out(task: PendingTask | CompletedSyncTask | CompletedReportTask, model: ModelRef) -> TaskOut:
    completed = task if getattr(task, "result", None) is not None else None
    return TaskOut(
        model=model,
        task_id=task.task_id,
        task_state=task.task_state,
        creation_time=task.creation_time,
        current_step=task.current_step,
        progress=task.progress,
        finished=task.is_finished,
        result=None if completed is None else _task_result(completed),  # type: ignore[arg-type]
    )


def succeeded(task: object) -> bool:
    """True for a finished task whose result says it worked."""
    result = getattr(task, "result", None)
    return bool(result is not None and result.successful)


def _task_result(task: CompletedSyncTask | CompletedReportTask) -> TaskResultOut:
    from alm_bot.anaplan.verdict import Verdict, verdict_of  # here: the client is loaded by now

    verdict = verdict_of(task) or Verdict(task.result.successful)
    return TaskResultOut(
        successful=verdict.successful,
        error_title=verdict.title,
        error_message=verdict.detail,
        source_revision_id=task.result.source_revision_id,
        target_revision_id=task.result.target_revision_id,
    )


def summary_out(report: SummaryReport) -> SummaryOut:
    return SummaryOut(
        source_revision_id=report.source_revision_id,
        target_revision_id=report.target_revision_id,
        totals=_counts(report.totals),
        differences={category: _counts(counts) for category, counts in report.differences.items()},
    )


def _counts(counts: Any) -> SummaryCountsOut:
    return SummaryCountsOut(created=counts.created, modified=counts.modified, deleted=counts.deleted)


def state_explained(state: str) -> str:
    return _STATES.get(state, state)


def approvals_out(progress: ApprovalProgress) -> ApprovalsOut:
    """The request's approval policy and its count, as MCP shows them."""
    policy = progress.policy
    still = progress.still_possible()
    escalate_to = policy.escalate_to if policy.escalates else None
    return ApprovalsOut(
        required=progress.required,
        approved=progress.counted,
        met=progress.met,
        stages=[
            ApprovalStageOut(
                name=s.stage.name or None,
                count=s.stage.count,
                approvers=[*s.stage.approvers.users, *s.stage.approvers.groups],
                approved_by=[_approver(a) for a in s.approved_by],
                met=s.met,
            )
            for s in progress.stages
        ],
        policy_source=policy.source,
        strictest_target=policy.strictest,
        still_possible=[*still.users, *still.groups] if not progress.met else [],
        reminded_at=progress.reminded_at,
        escalated_at=progress.escalated_at,
        escalated_to=[*escalate_to.users, *escalate_to.groups] if escalate_to and progress.escalated else [],
    )


def _approver(approval: Approval) -> Person:
    return Person(id=approval.person_id, name=approval.person_name)


def request_out(
    request: ApprovalRequest, progress: ApprovalProgress | None = None, runs: Sequence[TargetRun] = ()
) -> RequestOut:
    """The request; ``progress``: its approval count; ``runs``: a release's targets (``targets``)."""
    plan = request.plan
    sync = plan if plan.operation == "sync" else None
    status = plan if plan.operation == "change_status" else None
    return RequestOut(
        id=request.id,
        operation=request.operation,
        state=request.state,
        state_explained=state_explained(request.state),
        requester=Person(id=request.requester_id, name=request.requester_name),
        origin=request.origin,
        target_model=_model(
            sync.target.model if sync else status.model if status else None, request.target_model_id
        ),
        source_model=_model(sync.source, "") if sync else None,
        source_revision=_source_revision(sync.source_revision) if sync else None,
        target_revision=_target_revision(sync.target.revision) if sync else None,
        status=status.status if status else None,
        from_state=status.from_state if status else None,
        protected=plan.protected,
        summary=summary_out(sync.target.summary) if sync and sync.target.summary else None,
        summary_error=sync.target.summary_error if sync else None,
        risk=RiskOut.model_validate(sync.target.risk.model_dump()) if sync and sync.target.risk else None,
        created_at=request.created_at,
        expires_at=request.expires_at,
        decided_by=_decider(request),
        decided_at=request.decided_at,
        reason=request.reason,
        task_id=request.anaplan_task_id,
        result=_request_result(request.result),
        targets=targets_out(request, runs),
        approvals=approvals_out(progress) if progress is not None else None,
        runs_at=request.runs_at,
        window=_window(request),
    )


def _window(request: ApprovalRequest) -> WindowOut | None:
    hold = request.window
    if hold is None:
        return None
    by = None
    if hold.overridden_by_id is not None:
        by = Person(id=hold.overridden_by_id, name=hold.overridden_by_name or hold.overridden_by_id)
    return WindowOut(
        reason=hold.reason, zone=hold.zone, overridden_by=by, override_reason=hold.override_reason
    )


def _model(model: PlanModel | None, fallback_id: str) -> ModelRef:
    if model is None:
        return ModelRef(id=fallback_id, name=fallback_id)
    return ModelRef(id=model.id or fallback_id, name=model.name or model.id or fallback_id, alias=model.alias)


def _source_revision(revision: PlanRevision) -> RevisionOut | None:
    if not revision.id:
        return None
    return RevisionOut(
        id=revision.id,
        name=revision.name,
        description=revision.description,
        created_on=revision.created_on,
        created_by=revision.created_by or "",
    )


def _target_revision(revision: PlanRevision) -> RevisionRef | None:
    if not revision.id:
        return None
    return RevisionRef(id=revision.id, name=revision.name)


def _decider(request: ApprovalRequest) -> Person | None:
    if not request.decided_by_id:
        return None
    return Person(id=request.decided_by_id, name=request.decided_by_name or request.decided_by_id)


def _request_result(result: TaskOutcome | None) -> RequestResult | None:
    if result is None:
        return None
    return RequestResult(successful=result.successful, title=result.title, message=result.message)
