"""Changes that never need approval: tagging a revision, starting a comparison.

They run at once and are audited; a comparison's task is tracked so the watcher can say when it is
ready.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Literal

from alm_bot.actor import Actor
from alm_bot.anaplan import Revision
from alm_bot.errors import InvalidArgument
from alm_bot.operations.outcomes import ComparisonStarted, ReportTask
from alm_bot.operations.planning import plan_record, plan_sync
from alm_bot.operations.reads import Reads

__all__ = ["ImmediateChanges"]


class ImmediateChanges:
    """Revisions and comparisons."""

    def __init__(self, reads: Reads, clock: Callable[[], datetime]) -> None:
        self.reads = reads
        self.client = reads.client
        self.store = reads.store
        self.clock = clock

    async def create_revision(self, model: str, name: str, description: str, *, actor: Actor) -> Revision:
        """Tag the model's current structure (standard-mode models only; Anaplan explains refusals)."""
        info = await self.reads.resolve(model)
        if info.mode != "standard":
            raise InvalidArgument(
                "model",
                f"{info.label} is in {info.mode} mode; revisions can only be created on a standard-mode "
                "(development) model. Create the revision on the source model, then sync it.",
            )
        revision = await self.client.alm(info.id).create_revision(name, description)
        async with self.store.transaction() as tx:
            await tx.audit(
                "revision_created",
                actor,
                model_id=info.id,
                detail={"revision_id": revision.id, "name": revision.name, "model_name": info.name},
            )
        return revision

    async def start_comparison(
        self,
        source: str,
        target: str,
        revision: str | None = None,
        *,
        actor: Actor,
        full: bool = False,
        notify: str | None = None,
    ) -> ComparisonStarted:
        """Start a comparison summary (or the full report) of a source revision against the target.

        The watcher follows the task; when ``notify`` is a destination (e.g. ``user:U123``), a
        ``comparison_ready`` notice goes there once the result can be read.
        """
        plan = await plan_sync(self.client, self.reads.directory, source, target, revision)
        alm = self.client.alm(plan.target.id)
        args = (plan.source_revision.id, plan.source.id, plan.target_revision.id)
        kind: Literal["comparison_report", "comparison_summary"]
        task: ReportTask
        if full:
            kind, task = (
                "comparison_report",
                await alm.create_comparison_report(*args, wait_for_completion=False),
            )
        else:
            kind, task = (
                "comparison_summary",
                await alm.create_comparison_summary(*args, wait_for_completion=False),
            )
        async with self.store.transaction() as tx:
            await tx.track_task(
                kind,
                plan.target.id,
                task.task_id,
                first_poll_at=self.clock(),
                notify=notify,
                context=plan_record(plan),
            )
            await tx.audit(
                f"{kind}_started",
                actor,
                model_id=plan.target.id,
                detail={"task_id": task.task_id, "source_revision_id": plan.source_revision.id},
            )
        return ComparisonStarted(
            kind, task, plan.source, plan.target, plan.source_revision, plan.target_revision.id
        )
