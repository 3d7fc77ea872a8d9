"""The JSON envelopes Anaplan wraps its payloads in, parsed straight from the response bytes.

Each success body is ``{"meta": …, "status": …, "<key>": payload}`` (reference §1.2). Each envelope
is a pydantic model whose validator is built once, at import; parsing the raw bytes with it
(pydantic's JSON parser, no ``json.loads`` plus a second validation pass) keeps the per-request cost
low. Missing list keys default to ``[]`` because
Anaplan drops the key of an empty list; a missing ``meta.paging`` means a single page.

A body that does not fit is reported as an ``AnaplanError`` naming what was being done, never as a
raw ``pydantic.ValidationError``.
"""

from __future__ import annotations

from typing import TypeVar

import httpx2
from pydantic import Field, ValidationError

from alm_bot.anaplan.models import (
    AnaplanModel,
    Model,
    ModelRevision,
    PendingTask,
    ReportTask,
    Revision,
    SummaryReport,
    SyncTask,
    TaskSummary,
    Workspace,
)
from alm_bot.errors import AnaplanError

__all__ = [
    "AppliedToModels",
    "CreatedRevision",
    "CreatedTask",
    "ModelList",
    "OneModel",
    "Paging",
    "ReportTaskInfo",
    "RevisionList",
    "Summary",
    "SyncTaskInfo",
    "TaskList",
    "WorkspaceList",
    "parse_body",
]


class Paging(AnaplanModel):
    """``meta.paging`` of a paginated list (reference §1.3); ``next``/``previous`` are absolute URLs,
    present only when that page exists."""

    current_page_size: int | None = None
    offset: int = 0
    total_size: int | None = None
    next: str | None = None
    previous: str | None = None


class Meta(AnaplanModel):
    paging: Paging | None = None


class RevisionList(AnaplanModel):
    """``revisions`` lists: revisions, latestRevision, syncableRevisions."""

    meta: Meta | None = None
    revisions: list[Revision] = Field(default_factory=list)


class CreatedRevision(AnaplanModel):
    revision: Revision


class TaskList(AnaplanModel):
    tasks: list[TaskSummary] = Field(default_factory=list)


class CreatedTask(AnaplanModel):
    """The body of every task-creating POST: the task has no ``currentStep`` and no ``result`` yet."""

    task: PendingTask


class SyncTaskInfo(AnaplanModel):
    task: SyncTask


class ReportTaskInfo(AnaplanModel):
    task: ReportTask


class AppliedToModels(AnaplanModel):
    applied_to_models: list[ModelRevision] = Field(default_factory=list)


class Summary(AnaplanModel):
    summary_report: SummaryReport


class ModelList(AnaplanModel):
    meta: Meta | None = None
    models: list[Model] = Field(default_factory=list)


class OneModel(AnaplanModel):
    model: Model


class WorkspaceList(AnaplanModel):
    meta: Meta | None = None
    workspaces: list[Workspace] = Field(default_factory=list)


E = TypeVar("E", bound=AnaplanModel)


def parse_body(envelope: type[E], response: httpx2.Response, *, action: str, path: str) -> E:
    """Parse a success body into ``envelope``; a body that does not fit becomes an ``AnaplanError``."""
    try:
        return envelope.model_validate_json(response.content)
    except ValidationError as exc:
        problem = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in problem["loc"]) or "body"
        raise AnaplanError(
            f"Anaplan answered the request to {action} with a response alm-bot could not read "
            f"({where}: {problem['msg']}). This is likely an Anaplan API change; please report it.",
            status=response.status_code,
            path=path,
        ) from None
