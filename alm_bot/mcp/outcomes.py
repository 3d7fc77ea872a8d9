"""What a change tool tells the assistant: the outcome of a request or a comparison, in words too.

`change_outcome` and `comparison_outcome` combine what the core returned with the task as last
seen (when the tool waited) into one structured answer whose ``message`` / ``next_step`` say, in a
sentence, what happened and what to call next — so the assistant can relay it without guessing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from alm_bot.mcp.render import request_out, task_out
from alm_bot.mcp.schemas import (
    ChangeOutcome,
    ComparisonOutcome,
    ModelRef,
    RequestOut,
    RequestResult,
    RevisionRef,
    SummaryOut,
    TaskOut,
)
from alm_bot.mcp.waiting import Waited

if TYPE_CHECKING:
    from alm_bot.operations import ComparisonStarted, RequestOutcome

__all__ = ["change_outcome", "comparison_outcome", "handle"]


def handle(model: ModelRef) -> str:
    """How to name the model in a follow-up call: its alias if it has one, else its id."""
    return model.alias or model.id


def change_outcome(outcome: RequestOutcome, waited: Waited[Any] | None = None) -> ChangeOutcome:
    shown = request_out(outcome.request)
    status = outcome.status
    result = shown.result
    task: TaskOut | None = None
    if waited is not None and waited.task is not None:
        task = task_out(waited.task, shown.target_model)
        if task.result is not None:
            status = "succeeded" if task.result.successful else "failed"
            result = RequestResult(
                successful=task.result.successful,
                title=task.result.error_title,
                message=task.result.error_message,
            )
    return ChangeOutcome(
        status=status,
        request_id=shown.id,
        message=_change_message(shown, status, outcome.approvers, result, waited),
        target_model=shown.target_model,
        approvers=outcome.approvers if status == "awaiting_approval" else [],
        expires_at=shown.expires_at if status == "awaiting_approval" else None,
        task_id=shown.task_id,
        task=task,
        result=result,
    )


def _what(shown: RequestOut) -> str:
    target = shown.target_model.name
    if shown.operation == "change_status":
        return f"taking {target} {shown.status}"
    revision = f" revision {shown.source_revision.name!r}" if shown.source_revision else ""
    source = f" from {shown.source_model.name}" if shown.source_model else ""
    return f"the sync of{revision}{source} into {target}"


def _change_message(
    shown: RequestOut,
    status: str,
    approvers: list[str],
    result: RequestResult | None,
    waited: Waited[Any] | None,
) -> str:
    rid, what = shown.id, _what(shown)
    if status == "awaiting_approval":
        expires = f" It expires at {shown.expires_at:%Y-%m-%d %H:%M} UTC." if shown.expires_at else ""
        return (
            f"Nothing has changed yet. {shown.target_model.name} is protected, so request {rid} ({what}) "
            f"waits for a second person to approve it in Slack (approvers: {', '.join(approvers) or 'none'})."
            f"{expires} "
            f"Tell the user the request id; an assistant cannot approve it. Follow it with alm_get_request."
        )
    if status == "scheduled":
        runs = f" at {shown.runs_at:%Y-%m-%d %H:%M} UTC" if shown.runs_at else " when its change window opens"
        held = f" ({shown.window.reason})" if shown.window else ""
        return (
            f"Nothing has changed yet. Request {rid} ({what}) is approved but its change window is closed"
            f"{held}; it starts{runs}, after the plan is checked again. Follow it with alm_get_request."
        )
    if status == "succeeded":
        detail = f" {result.message}" if result and result.message else ""
        return f"Request {rid}: {what} succeeded.{detail}"
    if status == "failed":
        from alm_bot.anaplan.verdict import reason_text  # here: importing the server stays light

        why = reason_text(result.title, result.message) if result else None
        return f"Request {rid}: {what} failed{f': {why}' if why else ''}. Nothing more will happen."
    check = (
        f"alm_get_sync_task(model={handle(shown.target_model)!r}, task_id={shown.task_id!r})"
        if shown.task_id
        else "alm_get_request"
    )
    still = " It was still running when the wait ended." if waited is not None else ""
    note = f" {waited.note}" if waited is not None and waited.note else ""
    return f"Request {rid}: {what} started in Anaplan.{still}{note} Check it later with {check}."


def comparison_outcome(
    started: ComparisonStarted,
    waited: Waited[Any] | None = None,
    summary: SummaryOut | None = None,
) -> ComparisonOutcome:
    target = ModelRef(id=started.target.id, name=started.target.name, alias=started.target.alias)
    source = ModelRef(id=started.source.id, name=started.source.name, alias=started.source.alias)
    last = waited.task if waited is not None and waited.task is not None else started.task
    task = task_out(last, target)
    status: Literal["running", "succeeded", "failed"] = "running"
    if task.result is not None:
        status = "succeeded" if task.result.successful else "failed"
    return ComparisonOutcome(
        kind=started.kind,
        status=status,
        task_id=started.task.task_id,
        source_model=source,
        target_model=target,
        source_revision=RevisionRef(id=started.source_revision.id, name=started.source_revision.name),
        target_revision_id=started.target_revision_id,
        task=task if waited is not None else None,
        summary=summary,
        next_step=_comparison_next_step(started.kind, status, target, started.task.task_id, waited),
    )


def _comparison_next_step(
    kind: str, status: str, target: ModelRef, task_id: str, waited: Waited[Any] | None
) -> str:
    args = f"model={handle(target)!r}, task_id={task_id!r}"
    noun = "summary" if kind == "comparison_summary" else "report"
    if status == "failed":
        return "The comparison failed in Anaplan; see task.result. Nothing was changed by it."
    if status == "succeeded":
        if kind == "comparison_summary":
            return "The summary is included. To apply the changes, call alm_sync_models."
        return f"Read the report with alm_get_comparison_report({args})."
    note = f" {waited.note}" if waited is not None and waited.note else ""
    return (
        f"The comparison is running in Anaplan.{note} Check it with alm_get_comparison_{noun}_task({args}); "
        f"once COMPLETE, read it with alm_get_comparison_{noun}({args})."
    )
