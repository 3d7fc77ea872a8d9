"""Tools that change models — sync, online/offline — and the reads that follow sync tasks.

A change to a protected model is never made here: the core turns it into a pending request that a
person approves in Slack, and the tool says so (``awaiting_approval``). There is no approve tool.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import Field

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.outcomes import change_outcome
from alm_bot.mcp.params import (
    MaxWait,
    ModelName,
    SourceModel,
    SourceRevision,
    TargetModel,
    TaskId,
    WaitForCompletion,
)
from alm_bot.mcp.render import model_ref, task_out, task_summary_out
from alm_bot.mcp.schemas import ChangeOutcome, TaskList, TaskOut
from alm_bot.mcp.toolspec import CHANGES_ANAPLAN, READS_ANAPLAN, ToolSpec
from alm_bot.mcp.waiting import wait_for_task

__all__ = ["sync_tools"]

_SYNC_ARGUMENTS = {"source": "source_model", "target": "target_model", "revision": "source_revision"}


def sync_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def alm_get_sync_tasks(model: ModelName) -> TaskList:
        """List the sync tasks that ran or are running on a model (the model that received the syncs).

        The model may be named by alias, id or exact name. Use alm_get_sync_task for one task's details.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            tasks = await ops.get_sync_tasks(info.id)
        return TaskList(model=model_ref(info), tasks=[task_summary_out(t) for t in tasks])

    async def alm_get_sync_task(model: ModelName, task_id: TaskId) -> TaskOut:
        """Get one sync task: its state, progress and, once finished, whether it succeeded and why not.

        Pass the target model of the sync (alias, id or exact name) and the task id that
        alm_sync_models or alm_get_request returned.
        """
        with tool_errors():
            ops = await deps.ops()
            info = await ops.resolve(model)
            task = await ops.get_sync_task(info.id, task_id)
        return task_out(task, model_ref(info))

    async def alm_sync_models(
        source_model: SourceModel,
        target_model: TargetModel,
        ctx: Context,
        source_revision: SourceRevision = None,
        wait_for_completion: WaitForCompletion = False,
        max_wait_seconds: MaxWait = 60,
    ) -> ChangeOutcome:
        """Sync a target model to a revision of a source model (apply the source's structure changes).

        Pass the source (usually the development model) and the target (e.g. test or production); by
        default the newest revision the target can take is used. Models may be named by alias, id or
        exact name. alm-bot computes what changes and records a request.
        If the target is protected (production), NOTHING changes now: the result has status
        "awaiting_approval" with a request_id, the approvers and the expiry, and a person must approve
        it in Slack — you cannot approve it; tell the user. Otherwise the sync starts at once
        (status "started", with the Anaplan task_id); with wait_for_completion it waits, reporting
        progress, up to max_wait_seconds and returns "succeeded" or "failed", or the task to check later.
        """
        with tool_errors(_SYNC_ARGUMENTS):
            ops = await deps.ops()
            outcome = await ops.requests.request_sync(
                source_model, target_model, source_revision or None, actor=deps.actor()
            )
        if not (wait_for_completion and outcome.status == "started" and outcome.task_id):
            return change_outcome(outcome)
        target, task_id = outcome.request.target_model_id, outcome.task_id
        waited = await wait_for_task(
            ops.changes,
            partial(ops.followed_task, "sync", target, task_id),
            partial(ops.get_sync_task, target, task_id),
            ctx.report_progress,
            max_wait=max_wait_seconds,
            label="sync",
            task_id=task_id,
        )
        return change_outcome(outcome, waited)

    async def alm_change_model_status(
        model: ModelName,
        status: Annotated[
            Literal["online", "offline"],
            Field(description="online: users can open the model; offline: maintenance, users are kept out."),
        ],
    ) -> ChangeOutcome:
        """Take a model online or offline (offline = maintenance mode, users cannot open it).

        The model may be named by alias, id or exact name. If the model is protected (production),
        NOTHING changes now: the result has status "awaiting_approval" with a request_id, the approvers
        and the expiry, and a person must approve it in Slack — you cannot approve it; tell the user.
        Otherwise the change is made at once and the result says "succeeded" or "failed".
        """
        with tool_errors():
            ops = await deps.ops()
            outcome = await ops.requests.request_status_change(model, status, actor=deps.actor())
        return change_outcome(outcome)

    return [
        ToolSpec(alm_get_sync_tasks, "Get a model's sync tasks", READS_ANAPLAN),
        ToolSpec(alm_get_sync_task, "Get a sync task", READS_ANAPLAN),
        ToolSpec(alm_sync_models, "Sync models (protected targets need approval)", CHANGES_ANAPLAN),
        ToolSpec(
            alm_change_model_status,
            "Take a model online or offline (protected: needs approval)",
            CHANGES_ANAPLAN,
        ),
    ]
