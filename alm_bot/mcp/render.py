"""Turns the core's objects into the MCP layer's output models (`schemas`).

Pure functions, no I/O. The core's types are imported for type checking only, so that importing
the MCP server does not import the Anaplan client or the store (``alm-bot mcp`` starts fast).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from pydantic import ValidationError

from alm_bot.mcp.schemas import (
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
    from alm_bot.directory import ModelInfo
    from alm_bot.store import ApprovalRequest

__all__ = [
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


def request_out(request: ApprovalRequest) -> RequestOut:
    plan: Mapping[str, Any] = request.plan or {}
    is_sync = request.operation == "sync"
    return RequestOut(
        id=request.id,
        operation=request.operation,
        state=request.state,
        state_explained=state_explained(request.state),
        requester=Person(id=request.requester_id, name=request.requester_name),
        origin=request.origin,
        target_model=_plan_model(plan, "target_model" if is_sync else "model", request.target_model_id),
        source_model=_plan_model(plan, "source_model", plan.get("source_model_id", "")) if is_sync else None,
        source_revision=_plan_source_revision(plan) if is_sync else None,
        target_revision=_plan_target_revision(plan) if is_sync else None,
        status=None if is_sync else plan.get("status"),
        from_state=None if is_sync else plan.get("from_state"),
        protected=bool(plan.get("protected")),
        summary=_plan_summary(plan.get("summary")),
        summary_error=plan.get("summary_error"),
        created_at=request.created_at,
        expires_at=request.expires_at,
        decided_by=_decider(request),
        decided_at=request.decided_at,
        reason=request.reason,
        task_id=request.anaplan_task_id,
        result=_request_result(request.result),
    )


def _plan_model(plan: Mapping[str, Any], prefix: str, fallback_id: str) -> ModelRef:
    # Sync plans say "target_model_id" + "target_alias"; status plans "model_id" + "model_alias".
    role = prefix.removesuffix("_model")
    return ModelRef(
        id=plan.get(f"{prefix}_id") or fallback_id,
        name=plan.get(f"{prefix}_name") or fallback_id,
        alias=plan.get(f"{role}_alias"),
    )


def _plan_source_revision(plan: Mapping[str, Any]) -> RevisionOut | None:
    if not plan.get("source_revision_id"):
        return None
    return RevisionOut(
        id=plan["source_revision_id"],
        name=plan.get("source_revision_name") or "",
        description=plan.get("source_revision_description"),
        created_on=_datetime(plan.get("source_revision_created_on")),
        created_by=plan.get("source_revision_created_by") or "",
    )


def _plan_target_revision(plan: Mapping[str, Any]) -> RevisionRef | None:
    if not plan.get("target_revision_id"):
        return None
    return RevisionRef(id=plan["target_revision_id"], name=plan.get("target_revision_name") or "")


def _plan_summary(data: Any) -> SummaryOut | None:
    if not isinstance(data, Mapping):
        return None
    try:
        return SummaryOut.model_validate(
            {
                "source_revision_id": data.get("source_revision_id") or data.get("sourceRevisionId") or "",
                "target_revision_id": data.get("target_revision_id") or data.get("targetRevisionId") or "",
                "totals": data.get("totals") or {},
                "differences": data.get("differences") or {},
            }
        )
    except ValidationError:
        return None  # an unexpected stored shape must not make the whole request unreadable


def _datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None


def _decider(request: ApprovalRequest) -> Person | None:
    if not request.decided_by_id:
        return None
    return Person(id=request.decided_by_id, name=request.decided_by_name or request.decided_by_id)


def _request_result(result: Mapping[str, Any] | None) -> RequestResult | None:
    if not result:
        return None
    return RequestResult(
        successful=bool(result.get("successful")),
        title=result.get("title"),
        message=result.get("message"),
    )
