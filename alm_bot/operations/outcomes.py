"""What the use cases hand back to the front ends, and the small vocabulary they share."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from alm_bot.anaplan import PendingTask, Revision
from alm_bot.anaplan.models import CompletedReportTask, CompletedSyncTask
from alm_bot.directory import ModelInfo
from alm_bot.store import ApprovalRequest

__all__ = ["ComparisonStarted", "ReportTask", "RequestOutcome", "SyncTask", "TaskKind", "utc_now"]

TaskKind = Literal["sync", "comparison_report", "comparison_summary"]
SyncTask = PendingTask | CompletedSyncTask
ReportTask = PendingTask | CompletedReportTask


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RequestOutcome:
    """What asking for a change produced: a pending request, one waiting for its change window
    (``scheduled``), or a change already under way/done.

    ``blocked``: a release whose preflight blocked targets (nobody is asked until they are dropped);
    ``cancelled``: every target of such a release was dropped.
    """

    request: ApprovalRequest
    status: Literal[
        "awaiting_approval", "scheduled", "started", "succeeded", "failed", "blocked", "cancelled"
    ]
    approvers: list[str]

    @property
    def task_id(self) -> str | None:
        return self.request.anaplan_task_id


@dataclass(frozen=True)
class ComparisonStarted:
    """A comparison task that Anaplan is now running; the watcher reports when it is ready."""

    kind: Literal["comparison_report", "comparison_summary"]
    task: ReportTask
    source: ModelInfo
    target: ModelInfo
    source_revision: Revision
    target_revision_id: str
