"""The data-loss radar in preflight: a plan's full comparison report, and the verdict on its target.

For a protected target the full comparison report is asked for beside the change summary (both are
Anaplan tasks the watcher follows; neither blocks the request). When the report task finishes, the
watcher downloads at most ``MAX_REPORT_BYTES`` of it and the radar reads it there (``read_plan_report``);
the reading is stored on the plan's target until the summary is in too. ``assessed`` puts the two
together into the target's ``risk`` once nothing the radar waits for is still being computed; until
then ``risk`` is ``None``. A report that could not be started, fetched or read is a reason for
``unknown`` (``report_error``), never ``safe``.
"""

from __future__ import annotations

from alm_bot.anaplan import AnaplanClient
from alm_bot.anaplan.models import CompletedReportTask
from alm_bot.errors import AnaplanError
from alm_bot.operations.planning import PlannedSync
from alm_bot.radar import MAX_REPORT_BYTES, ReportReading, combine, read_report
from alm_bot.records import SyncPlan, SyncTarget, TaskOutcome

__all__ = [
    "assessed",
    "read_plan_report",
    "report_outcome_error",
    "start_plan_report",
    "start_target_report",
    "waits_for",
]


async def start_plan_report(client: AnaplanClient, plan: PlannedSync) -> tuple[str | None, str | None]:
    """Ask Anaplan for the full comparison report of a protected target: (task id, or why not)."""
    if not plan.target.protected:
        return None, None
    try:
        task = await client.alm(plan.target.id).create_comparison_report(
            plan.source_revision.id, plan.source.id, plan.target_revision.id, wait_for_completion=False
        )
    except AnaplanError as exc:
        return None, f"Anaplan did not start the comparison report: {exc}"
    return task.task_id, None


async def start_target_report(
    client: AnaplanClient, plan: SyncPlan, target: SyncTarget
) -> tuple[str | None, str | None]:
    """`start_plan_report` for one (protected) target of a stored plan: a release asks per target."""
    try:
        task = await client.alm(target.model.id).create_comparison_report(
            plan.source_revision.id, plan.source.id, target.revision.id, wait_for_completion=False
        )
    except AnaplanError as exc:
        return None, f"Anaplan did not start the comparison report: {exc}"
    return task.task_id, None


async def read_plan_report(
    client: AnaplanClient, model_id: str, info: CompletedReportTask, *, max_bytes: int = MAX_REPORT_BYTES
) -> ReportReading:
    """Download a finished plan report (cut past ``max_bytes``: then the radar says ``unknown``), read it."""
    body = await client.alm(model_id).get_comparison_report(info, max_bytes=max_bytes)
    return read_report(body, max_report_bytes=max_bytes)


def report_outcome_error(outcome: TaskOutcome) -> str | None:
    """Why a finished report task gave the radar nothing to read (None: it did)."""
    if outcome.successful and outcome.report is not None:
        return None
    if outcome.successful:
        return outcome.report_error or "the report could not be downloaded"
    return outcome.message or outcome.title or "Anaplan could not compute the comparison report"


def waits_for(target: SyncTarget) -> tuple[str, ...]:
    """What the radar still waits for on this target: ``summary``, ``report``, both or neither."""
    waiting = []
    if target.summary_task_id and target.summary is None and target.summary_error is None:
        waiting.append("summary")
    if target.report_task_id and target.report is None and target.report_error is None:
        waiting.append("report")
    return tuple(waiting)


def assessed(target: SyncTarget) -> SyncTarget:
    """The target with the radar's verdict, or with none while a summary or report is on its way."""
    if waits_for(target):
        return target.model_copy(update={"risk": None})
    risk = combine(target.summary, target.report, report_unavailable=target.report_error)
    return target.model_copy(update={"risk": risk})
