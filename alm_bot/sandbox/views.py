"""The JSON shapes of sandbox objects on the wire (reference §3 and §5), as plain dicts."""

from __future__ import annotations

from typing import Any

from alm_bot.sandbox.formats import epoch_ms, iso_second, model_date
from alm_bot.sandbox.state import Application, Model, Revision, Task, TaskFailure, Workspace, World
from alm_bot.sandbox.tasks import TaskProgress

__all__ = [
    "applied_model_json",
    "created_task_json",
    "model_json",
    "revision_json",
    "task_info_json",
    "task_summary_json",
    "workspace_json",
]


def revision_json(revision: Revision, applied: Application | None) -> dict[str, Any]:
    """A revision as one model sees it: ``appliedOn``/``appliedBy`` say when it reached that model.

    Pass ``applied=None`` to leave them out (the revision list does, like APIARY's example).
    """
    body: dict[str, Any] = {"id": revision.id, "name": revision.name}
    if revision.description is not None:
        body["description"] = revision.description
    body["createdOn"] = iso_second(revision.created_on)
    body["createdBy"] = revision.created_by
    body["creationMethod"] = revision.creation_method
    if applied is not None:
        body["appliedOn"] = iso_second(applied.applied_on)
        body["appliedBy"] = applied.applied_by
    return body


def applied_model_json(world: World, applied: Application, *, deleted_model_id: bool) -> dict[str, Any]:
    """An ``appliedToModels`` entry; a deleted model loses its name and workspace (and, unless
    ``deleted_model_id``, its id) and says ``modelDeleted: true``."""
    model = world.models[applied.model_id]
    body: dict[str, Any] = {}
    if not model.deleted or deleted_model_id:
        body["modelId"] = model.id
    if not model.deleted:
        body["modelName"] = model.name
        body["workspaceId"] = model.workspace_id
    body["appliedBy"] = applied.applied_by
    body["appliedOn"] = iso_second(applied.applied_on)
    body["appliedMethod"] = applied.method
    if model.deleted:
        body["modelDeleted"] = True
    return body


def created_task_json(task: Task, url: str) -> dict[str, Any]:
    """What a task-creating POST returns: always IN_PROGRESS, no step, no result (reference §5.3)."""
    return {
        "taskId": task.id,
        "taskUrl": url,
        "taskState": "IN_PROGRESS",
        "creationTime": epoch_ms(task.created_at),
    }


def _failure_json(failure: TaskFailure) -> dict[str, Any]:
    error = {"title": failure.title, "messageText": failure.message}
    if failure.subtitle:
        error["subtitle"] = failure.subtitle
    return error


def _result_json(task: Task, report_url: str | None, *, rich: bool) -> dict[str, Any]:
    """The documented minimal shapes (APIARY: ``{successful: true}`` for a sync, no revision ids on a
    failure), or the rich ones with both revision ids (what anaplan-sdk's live tests imply).
    A successful report always names its revisions and file: that shape is documented."""
    result: dict[str, Any] = {"successful": task.failure is None}
    if rich or (report_url is not None and task.failure is None):
        result["sourceRevisionId"] = task.source_revision_id
        result["targetRevisionId"] = task.target_revision_id
    if task.failure is not None:
        result["error"] = _failure_json(task.failure)
    elif report_url is not None:
        result["reportFileUrl"] = report_url
    return result


def task_info_json(
    task: Task, progress: TaskProgress, report_url: str | None, *, rich_result: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "taskId": task.id,
        "taskState": progress.state,
        "creationTime": epoch_ms(task.created_at),
    }
    if progress.current_step is not None:
        body["currentStep"] = progress.current_step
    if task.finished:
        body["result"] = _result_json(task, report_url, rich=rich_result)
    return body


def task_summary_json(task: Task, progress: TaskProgress) -> dict[str, Any]:
    return {"taskId": task.id, "taskState": progress.state, "creationTime": epoch_ms(task.created_at)}


def workspace_json(world: World, workspace: Workspace, tenant_details: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": workspace.id, "name": workspace.name, "active": workspace.active}
    if tenant_details:
        body["sizeAllowance"] = workspace.size_allowance
        body["currentSize"] = sum(
            m.memory_usage for m in world.models.values() if m.workspace_id == workspace.id and not m.deleted
        )
    return body


def model_json(
    world: World, model: Model, url: str, details: bool, transaction_running: bool | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": model.id,
        "name": model.name,
        "activeState": model.active_state,
        "currentWorkspaceId": model.workspace_id,
        "currentWorkspaceName": world.workspaces[model.workspace_id].name,
        "modelUrl": url,
        "categoryValues": [dict(c) for c in model.category_values],
    }
    if details:
        body["lastSavedSerialNumber"] = model.last_saved_serial_number
        body["lastModifiedByUserGuid"] = model.last_modified_by
        body["memoryUsage"] = model.memory_usage
        body["isoCreationDate"] = model_date(model.created_on)
        body["lastModified"] = model_date(model.last_modified)
        if transaction_running is not None:
            body["modelTransactionRunning"] = transaction_running
    return body
