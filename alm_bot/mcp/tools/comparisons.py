"""Tools that compare a source revision with a target model: summaries (counts) and full reports.

A comparison changes no model. It is an Anaplan task on the *target* model, so the follow-up
reads take the target model and the task id.
"""

from __future__ import annotations

from functools import partial
from typing import Final

from mcp.server.mcpserver import Context

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.outcomes import comparison_outcome
from alm_bot.mcp.params import (
    MaxWait,
    ModelName,
    SourceModel,
    SourceRevision,
    TargetModel,
    TaskId,
    WaitForCompletion,
)
from alm_bot.mcp.render import model_ref, succeeded, summary_out, task_out
from alm_bot.mcp.schemas import ComparisonOutcome, ComparisonReport, SummaryOut, TaskOut
from alm_bot.mcp.toolspec import ADDS_IN_ANAPLAN, READS_ANAPLAN, ToolSpec
from alm_bot.mcp.waiting import wait_for_task

__all__ = ["MAX_REPORT_CHARACTERS", "comparison_tools"]

MAX_REPORT_CHARACTERS: Final = 100_000
"""A report is cut to this many characters, so one call cannot flood the assistant's context."""

_ARGUMENTS: Final = {"source": "source_model", "target": "target_model", "revision": "source_revision"}


def comparison_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def _compare(
        ctx: Context,
        source_model: str,
        target_model: str,
        source_revision: str | None,
        wait: bool,
        max_wait: int,
        *,
        full: bool,
    ) -> ComparisonOutcome:
        with tool_errors(_ARGUMENTS):
            ops = await deps.ops()
            started = await ops.immediate.start_comparison(
                source_model, target_model, source_revision or None, actor=deps.actor(), full=full
            )
        if not wait:
            return comparison_outcome(started)
        read_task = ops.get_comparison_report_task if full else ops.get_comparison_summary_task
        target, task_id = started.target.id, started.task.task_id
        waited = await wait_for_task(
            ops.changes,
            partial(ops.followed_task, started.kind, target, task_id),
            partial(read_task, target, task_id),
            ctx.report_progress,
            max_wait=max_wait,
            label=started.kind.replace("_", " "),
            task_id=task_id,
        )
        summary = None
        if not full and succeeded(waited.task):
            with tool_errors():
                report = await ops.get_comparison_summary(started.target.id, started.task.task_id)
            summary = summary_out(report)
        return comparison_outcome(started, waited, summary)

    async def alm_create_comparison_summary(
        source_model: SourceModel,
        target_model: TargetModel,
        ctx: Context,
        source_revision: SourceRevision = None,
        wait_for_completion: WaitForCompletion = False,
        max_wait_seconds: MaxWait = 60,
    ) -> ComparisonOutcome:
        """Count what a sync would change: created/modified/deleted modules, line items, lists, and so on.

        Use it before alm_sync_models to show the user what a release contains. It changes no model.
        Pass the source and target models (alias, id or exact name) and optionally the source revision
        (default: the newest one the target can take). With wait_for_completion the counts are in the
        result; otherwise follow the returned task with alm_get_comparison_summary_task.
        """
        return await _compare(
            ctx,
            source_model,
            target_model,
            source_revision,
            wait_for_completion,
            max_wait_seconds,
            full=False,
        )

    async def alm_create_comparison_report(
        source_model: SourceModel,
        target_model: TargetModel,
        ctx: Context,
        source_revision: SourceRevision = None,
        wait_for_completion: WaitForCompletion = False,
        max_wait_seconds: MaxWait = 60,
    ) -> ComparisonOutcome:
        """Produce the full, line-by-line comparison report of what a sync would change.

        Prefer alm_create_comparison_summary for an overview; use this when the user needs every
        changed object. It changes no model. Pass the source and target models (alias, id or exact
        name) and optionally the source revision. When the task is COMPLETE, read the report with
        alm_get_comparison_report.
        """
        return await _compare(
            ctx, source_model, target_model, source_revision, wait_for_completion, max_wait_seconds, full=True
        )

    async def alm_get_comparison_summary_task(model: ModelName, task_id: TaskId) -> TaskOut:
        """Check a comparison-summary task: its state and, once COMPLETE, whether it worked.

        Pass the TARGET model of the comparison (alias, id or exact name) and the task id.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            task = await ops.get_comparison_summary_task(info.id, task_id)
        return task_out(task, model_ref(info))

    async def alm_get_comparison_summary(model: ModelName, task_id: TaskId) -> SummaryOut:
        """Read a finished comparison summary: change counts in total and per category.

        Pass the TARGET model of the comparison (alias, id or exact name) and the summary task id.
        """
        with tool_errors():
            ops = await deps.ops()
            report = await ops.get_comparison_summary(model, task_id)
        return summary_out(report)

    async def alm_get_comparison_report_task(model: ModelName, task_id: TaskId) -> TaskOut:
        """Check a comparison-report task: its state and, once COMPLETE, whether it worked.

        Pass the TARGET model of the comparison (alias, id or exact name) and the task id.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            task = await ops.get_comparison_report_task(info.id, task_id)
        return task_out(task, model_ref(info))

    async def alm_get_comparison_report(model: ModelName, task_id: TaskId) -> ComparisonReport:
        """Read a finished comparison report: tab-separated sections listing every changed object.

        Pass the TARGET model of the comparison (alias, id or exact name) and the report task id. Very
        long reports are cut short (see truncated).
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            content = await ops.get_comparison_report(info.id, task_id)
        text = content.decode("utf-8", errors="replace")
        return ComparisonReport(
            model=model_ref(info),
            task_id=task_id,
            size_bytes=len(content),
            text=text[:MAX_REPORT_CHARACTERS],
            truncated=len(text) > MAX_REPORT_CHARACTERS,
        )

    return [
        ToolSpec(alm_create_comparison_summary, "Compare: summary of what a sync changes", ADDS_IN_ANAPLAN),
        ToolSpec(alm_get_comparison_summary_task, "Get a comparison-summary task", READS_ANAPLAN),
        ToolSpec(alm_get_comparison_summary, "Get a comparison summary", READS_ANAPLAN),
        ToolSpec(
            alm_create_comparison_report, "Compare: full report of what a sync changes", ADDS_IN_ANAPLAN
        ),
        ToolSpec(alm_get_comparison_report_task, "Get a comparison-report task", READS_ANAPLAN),
        ToolSpec(alm_get_comparison_report, "Get a comparison report", READS_ANAPLAN),
    ]
