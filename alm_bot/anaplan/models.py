"""Typed views of what Anaplan sends: revisions, tasks, reports, models, workspaces.

Parsing is lenient on purpose (reference §9.6 item 5): unknown fields are ignored, missing list keys
become ``[]``, ``description``/``appliedOn``/``appliedBy``/``currentStep``/``progress`` and the revision
ids of a failed result are optional, any ``taskState`` string parses (CANCELLED included), and the
``differences`` of a summary report are an open map. Attributes are snake_case; the wire names are
camelCase aliases, and models accept either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
)
from pydantic.alias_generators import to_camel

__all__ = [
    "DEPLOYED_STATES",
    "FINISHED_STATES",
    "OFFLINE_STATES",
    "CompletedReportTask",
    "CompletedSyncTask",
    "Model",
    "ModelRevision",
    "PendingTask",
    "ReportTask",
    "ReportTaskResult",
    "Revision",
    "SummaryCounts",
    "SummaryReport",
    "SyncTask",
    "SyncTaskResult",
    "TaskError",
    "TaskState",
    "TaskSummary",
    "Workspace",
    "parse_report_task",
    "parse_sync_task",
]

TaskState = Literal["NOT_STARTED", "IN_PROGRESS", "COMPLETE", "CANCELLING", "CANCELLED"]
"""Task states of Anaplan's task docs; ALM's own docs show only IN_PROGRESS and COMPLETE. Fields typed
``str`` accept any other value Anaplan may add."""

FINISHED_STATES: Final = frozenset({"COMPLETE", "CANCELLED"})
DEPLOYED_STATES: Final = frozenset({"PRODUCTION", "PRODUCTION_MAINTENANCE"})
OFFLINE_STATES: Final = frozenset({"MAINTENANCE", "PRODUCTION_MAINTENANCE"})


def _epoch_ms_to_datetime(value: Any) -> Any:
    """Task ``creationTime`` is epoch milliseconds (reference §1.4); turn it into an aware datetime."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value.isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return value


EpochMs = Annotated[datetime, BeforeValidator(_epoch_ms_to_datetime)]
IsoTime = datetime
"""ISO-8601 times: revisions' ``2021-03-10T11:31:08Z`` and models' ``2017-11-13T21:20:10.000+0000``.
pydantic's own parser reads both (an offset without a colon included), with no Python call per field,
which matters for revision lists of thousands of entries."""


class AnaplanModel(BaseModel):
    """Base for every wire model: camelCase aliases, snake_case attributes, unknown fields ignored."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="ignore",
        frozen=True,
    )


class Revision(AnaplanModel):
    """A revision tag of a model (reference §5.1)."""

    id: str
    name: str
    description: str | None = None
    created_on: IsoTime
    created_by: str = ""
    creation_method: str = ""
    applied_on: IsoTime | None = None
    applied_by: str | None = None


class ModelRevision(AnaplanModel):
    """A model that a revision was applied to (``appliedToModels`` entry, reference §5.2).

    ``model_id`` may be missing for a deleted model (``model_deleted``), as Anaplan's docs describe.
    """

    model_id: str | None = None
    model_name: str = ""
    workspace_id: str | None = None
    applied_by: str = ""
    applied_on: IsoTime | None = None
    applied_method: str = ""
    model_deleted: bool = False


class TaskSummary(AnaplanModel):
    """One entry of the sync-task list: only id, state and creation time (reference §4.9)."""

    task_id: str
    task_state: str
    creation_time: EpochMs


class TaskError(AnaplanModel):
    """Why a task failed, in Anaplan's words."""

    title: str = ""
    message_text: str = ""
    subtitle: str | None = None


class SyncTaskResult(AnaplanModel):
    """The ``result`` of a finished sync task. Revision ids may be missing on failure."""

    successful: bool
    source_revision_id: str | None = None
    target_revision_id: str | None = None
    error: TaskError | None = None


class ReportTaskResult(AnaplanModel):
    """The ``result`` of a finished comparison-report or summary task."""

    successful: bool
    source_revision_id: str | None = None
    target_revision_id: str | None = None
    report_file_url: str | None = None
    error: TaskError | None = None


class _TaskBase(AnaplanModel):
    task_id: str
    task_state: str
    creation_time: EpochMs
    current_step: str | None = None
    progress: float | None = None
    task_url: str | None = None

    @property
    def is_finished(self) -> bool:
        """True once Anaplan will not change this task any more (COMPLETE or CANCELLED)."""
        return self.task_state in FINISHED_STATES


class PendingTask(_TaskBase):
    """A task without a result yet: just created, queued, running — or cancelled without a result."""


class CompletedSyncTask(_TaskBase):
    """A sync task that finished; ``result.successful`` says whether it worked."""

    result: SyncTaskResult


class CompletedReportTask(_TaskBase):
    """A comparison-report or summary task that finished; ``result.successful`` says whether it worked."""

    result: ReportTaskResult


def _has_result(value: Any) -> str:
    if isinstance(value, dict):
        return "done" if value.get("result") is not None else "pending"
    return "done" if getattr(value, "result", None) is not None else "pending"


SyncTask = Annotated[
    Annotated[PendingTask, Tag("pending")] | Annotated[CompletedSyncTask, Tag("done")],
    Discriminator(_has_result),
]
ReportTask = Annotated[
    Annotated[PendingTask, Tag("pending")] | Annotated[CompletedReportTask, Tag("done")],
    Discriminator(_has_result),
]

_sync_task_adapter: TypeAdapter[PendingTask | CompletedSyncTask] = TypeAdapter(SyncTask)
_report_task_adapter: TypeAdapter[PendingTask | CompletedReportTask] = TypeAdapter(ReportTask)


def parse_sync_task(data: dict[str, Any]) -> PendingTask | CompletedSyncTask:
    """Parse a sync task body (the object under ``task``)."""
    return _sync_task_adapter.validate_python(data)


def parse_report_task(data: dict[str, Any]) -> PendingTask | CompletedReportTask:
    """Parse a comparison-report or summary task body (the object under ``task``)."""
    return _report_task_adapter.validate_python(data)


class SummaryCounts(AnaplanModel):
    """Created/modified/deleted counts; Anaplan leaves zero counts out, so each defaults to 0."""

    created: int = 0
    modified: int = 0
    deleted: int = 0

    @property
    def total(self) -> int:
        return self.created + self.modified + self.deleted


class SummaryReport(AnaplanModel):
    """A comparison summary (reference §5.6). ``differences`` is open: any category key parses."""

    target_revision_id: str
    source_revision_id: str
    totals: SummaryCounts = Field(default_factory=SummaryCounts)
    differences: dict[str, SummaryCounts] = Field(default_factory=dict)


class Workspace(AnaplanModel):
    """An Anaplan workspace (Integration API)."""

    id: str
    name: str
    active: bool = True
    size_allowance: int | None = None
    current_size: int | None = None


class Model(AnaplanModel):
    """An Anaplan model (Integration API); ``active_state`` tells its mode and whether it is online."""

    id: str
    name: str
    active_state: str
    current_workspace_id: str = ""
    current_workspace_name: str = ""
    model_url: str | None = None
    category_values: list[dict[str, Any]] = Field(default_factory=list)
    last_saved_serial_number: int | None = None
    last_modified_by_user_guid: str | None = None
    memory_usage: int | None = None
    iso_creation_date: IsoTime | None = None
    last_modified: IsoTime | None = None
    model_transaction_running: bool | None = None

    @property
    def is_deployed(self) -> bool:
        """Deployed (production) mode: PRODUCTION or PRODUCTION_MAINTENANCE."""
        return self.active_state in DEPLOYED_STATES

    @property
    def is_online(self) -> bool:
        """False in the two maintenance ("offline") states and for locked or archived models."""
        return self.active_state in {"UNLOCKED", "PRODUCTION", "ACTIVE"}

    @property
    def mode(self) -> str:
        """standard | deployed | locked | archived (reference §3)."""
        return {
            "UNLOCKED": "standard",
            "MAINTENANCE": "standard",
            "ACTIVE": "standard",
            "PRODUCTION": "deployed",
            "PRODUCTION_MAINTENANCE": "deployed",
            "LOCKED": "locked",
            "ARCHIVED": "archived",
        }.get(self.active_state, self.active_state.lower())
