"""``AlmClient``: the 15 ALM operations of one model, with the seed's exact signatures.

Obtained from ``AnaplanClient.alm(model_id)``. The bound model id is the one in every path, which for
cross-model calls (syncable revisions, sync, both kinds of report) is the **target** (reference §4).

Every argument is checked before a request is sent. ``wait_for_completion=False`` returns the task as
the create POST described it (a ``PendingTask`` without ``currentStep``) with no extra GET; ``True``
polls it under the client's ``PollPolicy`` and raises ``TaskFailed`` unless it succeeded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Literal, TypeVar, overload

from alm_bot.anaplan import creation
from alm_bot.anaplan import validation as check
from alm_bot.anaplan.envelopes import (
    AppliedToModels,
    ReportTaskInfo,
    RevisionList,
    Summary,
    SyncTaskInfo,
    TaskList,
)
from alm_bot.anaplan.error_mapping import Endpoint
from alm_bot.anaplan.models import (
    CompletedReportTask,
    CompletedSyncTask,
    ModelRevision,
    PendingTask,
    ReportTask,
    Revision,
    SummaryReport,
    SyncTask,
    TaskSummary,
)
from alm_bot.anaplan.polling import PollPolicy, require_success, wait_for_task
from alm_bot.anaplan.revision_history import revision_history
from alm_bot.anaplan.transport import OCTET_STREAM

if TYPE_CHECKING:
    from alm_bot.anaplan.transport import AnaplanHttp

__all__ = ["AlmClient"]

R = TypeVar("R", PendingTask | CompletedSyncTask, PendingTask | CompletedReportTask)

_SYNC = "sync"
_REPORT = "comparison report"
_SUMMARY = "comparison summary"


class AlmClient:
    """The ALM operations of one Anaplan model (the target of syncs and reports)."""

    def __init__(self, http: AnaplanHttp, model_id: str, poll: PollPolicy) -> None:
        self._http = http
        self._model_id = check.anaplan_id("model_id", model_id)
        self._poll = poll
        self._base = f"/models/{model_id}"
        self._alm = f"/models/{model_id}/alm"

    @property
    def model_id(self) -> str:
        """The model every call of this client is about (the target of syncs and reports)."""
        return self._model_id

    def __repr__(self) -> str:
        return f"AlmClient(model_id={self._model_id!r})"

    # --- model status ----------------------------------------------------------------------------

    async def change_model_status(self, status: Literal["online", "offline"]) -> None:
        """Take the model online or offline (``PUT onlineStatus``, 204)."""
        body = {"status": check.online_status(status)}
        endpoint = Endpoint(path=f"{self._base}/onlineStatus", action=f"take model {self._model_id} {status}")
        await self._http.put(endpoint, body)

    # --- revisions -------------------------------------------------------------------------------

    async def get_revisions(
        self,
        sort_by: Literal["id", "name", "applied_on", "created_on"] | None = None,
        descending: bool = False,
        *,
        applied_after: date | None = None,
        applied_before: date | None = None,
        limit: int | None = None,
    ) -> list[Revision]:
        """The model's revisions (all, or the first ``limit``); ``sort_by`` becomes ``sort=±field``;
        ``applied_after`` (that day included) and ``applied_before`` (excluded) filter on Anaplan's side.
        Histories can be near 1 MB: narrow them, or stop early with ``iter_revisions``."""
        history = self.iter_revisions(
            sort_by, descending, applied_after=applied_after, applied_before=applied_before, limit=limit
        )
        return [revision async for revision in history]

    def iter_revisions(
        self,
        sort_by: Literal["id", "name", "applied_on", "created_on"] | None = None,
        descending: bool = False,
        *,
        applied_after: date | None = None,
        applied_before: date | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Revision]:
        """Like ``get_revisions``, yielding revisions as pages arrive; a page is fetched only when needed."""
        return revision_history(
            self._http,
            self._model_id,
            sort=check.sort_parameter(sort_by, descending),
            window=check.revision_window(applied_after, applied_before),
            limit=check.positive_limit(limit),
        )

    async def get_latest_revision(self) -> Revision | None:
        """The model's latest revision, or None when it has none."""
        endpoint = self._latest_revision_endpoint()
        revisions = (await self._http.get_json(endpoint, RevisionList)).revisions
        return revisions[0] if revisions else None

    async def get_syncable_revisions(self, source_model_id: str) -> list[Revision]:
        """Revisions of ``source_model_id`` this (target) model can take, newest first."""
        source = check.anaplan_id("source_model_id", source_model_id)
        endpoint = Endpoint(
            f"{self._alm}/syncableRevisions",
            f"list the revisions of model {source} that can be synced into model {self._model_id}",
            missing="source or target model",
            cross_model=True,
        )
        page = await self._http.get_json(endpoint, RevisionList, params={"sourceModelId": source})
        return page.revisions

    async def create_revision(self, name: str, description: str) -> Revision:
        """Tag the model's current structure as a new revision (the model must be in standard mode)."""
        body = {"name": check.revision_name(name)}
        if check.revision_description(description):
            body["description"] = description
        endpoint = Endpoint(f"{self._alm}/revisions", f"create revision {name!r} in model {self._model_id}")
        return await creation.create_revision(self._http, endpoint, self._latest_revision_endpoint(), body)

    async def get_models_for_revision(self, revision_id: str) -> list[ModelRevision]:
        """The models a revision was applied to; the first is where it was created."""
        revision = check.anaplan_id("revision_id", revision_id)
        endpoint = Endpoint(
            f"{self._alm}/revisions/{revision}/appliedToModels",
            f"list the models that revision {revision} of model {self._model_id} was applied to",
            missing="model or revision",
        )
        return (await self._http.get_json(endpoint, AppliedToModels)).applied_to_models

    # --- sync tasks ------------------------------------------------------------------------------

    async def get_sync_tasks(self) -> list[TaskSummary]:
        """Sync tasks into this model: running, or finished within the last 48 h."""
        return (await self._http.get_json(self._sync_tasks_endpoint(), TaskList)).tasks

    async def get_sync_task(self, task_id: str) -> SyncTask:
        """One sync task into this model, with its result once finished."""
        task = check.anaplan_id("task_id", task_id)
        return await self._sync_task(task)

    async def _sync_task(self, task_id: str) -> PendingTask | CompletedSyncTask:
        endpoint = Endpoint(
            f"{self._alm}/syncTasks/{task_id}",
            f"read sync task {task_id} of model {self._model_id}",
            missing="model or sync task",
        )
        return (await self._http.get_json(endpoint, SyncTaskInfo)).task

    @overload
    async def sync_models(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[True] = True,
    ) -> CompletedSyncTask: ...

    @overload
    async def sync_models(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[False] = False,
    ) -> PendingTask: ...

    @overload
    async def sync_models(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> SyncTask: ...

    async def sync_models(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> SyncTask:
        """Apply a source revision to this (target) model; never starts the same sync twice."""
        body = check.task_body(source_revision_id, source_model_id, target_revision_id)
        endpoint = Endpoint(
            f"{self._alm}/syncTasks",
            f"sync revision {source_revision_id} of model {source_model_id} into model {self._model_id}",
            missing="source model, target model or revision",
            cross_model=True,
        )
        created = await creation.start_sync_task(self._http, endpoint, self._sync_tasks_endpoint(), body)
        if not wait_for_completion:
            return created
        finished = await self._wait(created, self._sync_task, _SYNC, endpoint.path)
        return require_success(finished, CompletedSyncTask, what=_SYNC, path=endpoint.path)

    # --- comparison reports ----------------------------------------------------------------------

    @overload
    async def create_comparison_report(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[True] = True,
    ) -> CompletedReportTask: ...

    @overload
    async def create_comparison_report(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[False] = False,
    ) -> PendingTask: ...

    @overload
    async def create_comparison_report(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> ReportTask: ...

    async def create_comparison_report(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> ReportTask:
        """Start (and by default await) a full comparison report between two revisions."""
        body = check.task_body(source_revision_id, source_model_id, target_revision_id)
        created = await self._start_report("/comparisonReportTasks", _REPORT, body)
        if not wait_for_completion:
            return created
        path = f"{self._alm}/comparisonReportTasks"
        finished = await self._wait(created, self._comparison_task, _REPORT, path)
        return require_success(finished, CompletedReportTask, what=_REPORT, path=path)

    async def get_comparison_report_task(self, task_id: str) -> ReportTask:
        """One comparison-report task, with its result once finished."""
        return await self._comparison_task(check.anaplan_id("task_id", task_id))

    async def _comparison_task(self, task_id: str) -> PendingTask | CompletedReportTask:
        return await self._report_task("/comparisonReportTasks", _REPORT, task_id)

    async def get_comparison_report(self, task: ReportTask, *, max_bytes: int | None = None) -> bytes:
        """The tab-separated report file of a finished comparison-report task (kept 48 h).

        With ``max_bytes``, a longer file is cut after ``max_bytes + 1`` bytes, so a caller can tell it
        was over the limit without downloading it all."""
        target, source = check.finished_report_revisions(task, "get_comparison_report")
        endpoint = Endpoint(
            f"{self._alm}/comparisonReports/{target}/{source}",
            f"download the comparison report of revision {source} against revision {target} "
            f"of model {self._model_id}",
            cross_model=True,
            report=True,
            gone="the comparison report was not generated yet or expired after 48 h; create it again",
        )
        response = await self._http.get(endpoint, accept=OCTET_STREAM, cap=max_bytes)
        return response.content

    # --- comparison summaries --------------------------------------------------------------------

    @overload
    async def create_comparison_summary(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[True] = True,
    ) -> SummaryReport: ...

    @overload
    async def create_comparison_summary(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: Literal[False] = False,
    ) -> ReportTask: ...

    @overload
    async def create_comparison_summary(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> ReportTask | SummaryReport: ...

    async def create_comparison_summary(
        self,
        source_revision_id: str,
        source_model_id: str,
        target_revision_id: str,
        wait_for_completion: bool = True,
    ) -> ReportTask | SummaryReport:
        """Start a comparison summary; when waiting, return the summary itself."""
        body = check.task_body(source_revision_id, source_model_id, target_revision_id)
        created = await self._start_report("/summaryReportTasks", _SUMMARY, body)
        if not wait_for_completion:
            return created
        path = f"{self._alm}/summaryReportTasks"
        finished = await self._wait(created, self._summary_task, _SUMMARY, path)
        return await self.get_comparison_summary(
            require_success(finished, CompletedReportTask, what=_SUMMARY, path=path)
        )

    async def get_comparison_summary_task(self, task_id: str) -> ReportTask:
        """One comparison-summary task, with its result once finished."""
        return await self._summary_task(check.anaplan_id("task_id", task_id))

    async def _summary_task(self, task_id: str) -> PendingTask | CompletedReportTask:
        return await self._report_task("/summaryReportTasks", _SUMMARY, task_id)

    async def get_comparison_summary(self, task: ReportTask) -> SummaryReport:
        """The change counts of a finished comparison-summary task (kept 48 h)."""
        target, source = check.finished_report_revisions(task, "get_comparison_summary")
        endpoint = Endpoint(
            f"{self._alm}/summaryReports/{target}/{source}",
            f"read the comparison summary of revision {source} against revision {target} "
            f"of model {self._model_id}",
            cross_model=True,
            report=True,
            gone="the comparison summary was not generated yet or expired after 48 h; create it again",
        )
        return (await self._http.get_json(endpoint, Summary)).summary_report

    # --- shared steps ----------------------------------------------------------------------------

    def _latest_revision_endpoint(self) -> Endpoint:
        return Endpoint(f"{self._alm}/latestRevision", f"read the latest revision of model {self._model_id}")

    def _sync_tasks_endpoint(self) -> Endpoint:
        return Endpoint(f"{self._alm}/syncTasks", f"list the sync tasks of model {self._model_id}")

    async def _start_report(self, path: str, what: str, body: dict[str, str]) -> PendingTask:
        endpoint = Endpoint(
            f"{self._alm}{path}",
            f"start a {what} of revision {body['sourceRevisionId']} (model {body['sourceModelId']}) "
            f"against model {self._model_id}",
            missing="source model, target model or revision",
            cross_model=True,
            report=True,
        )
        return await creation.start_report_task(self._http, endpoint, body)

    async def _report_task(self, path: str, what: str, task_id: str) -> PendingTask | CompletedReportTask:
        endpoint = Endpoint(
            f"{self._alm}{path}/{task_id}",
            f"read {what} task {task_id} of model {self._model_id}",
            missing=f"model or {what} task",
            cross_model=True,
            report=True,
        )
        return (await self._http.get_json(endpoint, ReportTaskInfo)).task

    async def _wait(
        self, created: PendingTask, fetch: Callable[[str], Awaitable[R]], what: str, path: str
    ) -> PendingTask | R:
        """Poll a just-created task under the client's ``PollPolicy`` until it stops running."""
        return await wait_for_task(
            created,
            fetch,
            policy=self._poll,
            sleep=self._http.sleep,
            clock=self._http.clock,
            what=what,
            path=path,
        )
