"""Reads: the seed operations with models named the way people name them, and the stored requests.

Nothing here changes anything, in Anaplan or in the store.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from alm_bot.anaplan import AnaplanClient, ModelRevision, Revision, SummaryReport, TaskSummary
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import Action, InvalidArgument, NextStep, RequestNotFound
from alm_bot.evidence.notes import release_notes
from alm_bot.operations.outcomes import ReportTask, SyncTask
from alm_bot.store import ApprovalRequest, AuditEvent, Store, TargetRun, TrackedTask

__all__ = ["Reads"]


class Reads:
    """Look-ups in Anaplan (through the model directory) and in the store."""

    def __init__(self, client: AnaplanClient, store: Store, directory: ModelDirectory) -> None:
        self.client = client
        self.store = store
        self.directory = directory

    async def list_models(self, text_filter: str | None = None) -> list[ModelInfo]:
        return await self.directory.list_models(text_filter)

    async def resolve(self, model: str) -> ModelInfo:
        return await self.directory.resolve(model)

    async def get_revisions(
        self,
        model: str,
        sort_by: Literal["id", "name", "applied_on", "created_on"] | None = None,
        descending: bool = False,
    ) -> list[Revision]:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_revisions(sort_by=sort_by, descending=descending)

    async def get_latest_revision(self, model: str) -> Revision | None:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_latest_revision()

    async def get_syncable_revisions(self, source: str, target: str) -> list[Revision]:
        src, tgt = await self.resolve(source), await self.resolve(target)
        return await self.client.alm(tgt.id).get_syncable_revisions(src.id)

    async def get_models_for_revision(self, model: str, revision: str) -> list[ModelRevision]:
        info = await self.resolve(model)
        rev = await self.revision_of(info, revision)
        return await self.client.alm(info.id).get_models_for_revision(rev.id)

    async def get_sync_tasks(self, model: str) -> list[TaskSummary]:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_sync_tasks()

    async def get_sync_task(self, model: str, task_id: str) -> SyncTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_sync_task(task_id)

    async def get_comparison_report_task(self, model: str, task_id: str) -> ReportTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_comparison_report_task(task_id)

    async def get_comparison_report(self, model: str, task_id: str) -> bytes:
        info = await self.resolve(model)
        alm = self.client.alm(info.id)
        return await alm.get_comparison_report(await alm.get_comparison_report_task(task_id))

    async def get_comparison_summary_task(self, model: str, task_id: str) -> ReportTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_comparison_summary_task(task_id)

    async def get_comparison_summary(self, model: str, task_id: str) -> SummaryReport:
        info = await self.resolve(model)
        alm = self.client.alm(info.id)
        return await alm.get_comparison_summary(await alm.get_comparison_summary_task(task_id))

    async def get_request(self, request_id: str) -> ApprovalRequest:
        request = await self.store.get_request(request_id.strip().upper())
        if request is None:
            raise RequestNotFound(request_id)
        return request

    async def get_runs(self, request_id: str) -> list[TargetRun]:
        """A sync request's targets, where each stands, in plan order (none for a status change)."""
        return await self.store.list_runs(request_id)

    async def release_notes(self, request_id: str) -> str:
        """The request's release notes in Markdown (`alm_bot.evidence.notes`), from the store alone."""
        request = await self.get_request(request_id)
        events = await self.store.list_audit(request_id=request.id, limit=10_000)
        runs = await self.store.list_runs(request.id)
        return release_notes(request, list(reversed(events)), runs)

    async def followed_task(self, kind: str, model_id: str, task_id: str) -> TrackedTask | None:
        """What the watcher last stored about an Anaplan task it follows (a store read, no Anaplan call)."""
        return await self.store.find_task(kind, model_id, task_id)

    async def list_requests(
        self, *, states: Collection[str] | None = None, requester_id: str | None = None, limit: int = 50
    ) -> list[ApprovalRequest]:
        return await self.store.list_requests(states=states, requester_id=requester_id, limit=limit)

    async def list_audit(self, model: str | None = None, limit: int = 50) -> list[AuditEvent]:
        model_id = (await self.resolve(model)).id if model else None
        return await self.store.list_audit(model_id=model_id, limit=limit)

    async def revision_of(self, info: ModelInfo, revision: str) -> Revision:
        """The model's revision named by id or exact name (case-insensitive)."""
        revisions = await self.client.alm(info.id).get_revisions()
        for rev in revisions:
            if revision.upper() == rev.id.upper() or revision.casefold() == rev.name.casefold():
                return rev
        raise InvalidArgument(
            "revision",
            f"{info.label} has no revision {revision!r}.",
            next_step=NextStep(Action.LIST_REVISIONS, info.alias or info.id),
        )
