"""The ALM operations' rules: who may call them, what they change, and why they refuse.

Each function takes the world, the calling user and already-parsed arguments, and either returns
what the route serializes or raises `ApiError` with Anaplan's status and message. By the time a
rule runs, the route has authenticated the call (401) and parsed the body (400). The rule then
checks the model in the path (404 unknown, 403 — or 424 on report endpoints — without the
Workspace Administrator role, 422 archived), then the source model of cross-model calls (the same
checks), then the revision ids in the body (400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from alm_bot.sandbox.errors import ApiError
from alm_bot.sandbox.formats import new_id
from alm_bot.sandbox.inputs import RevisionPair
from alm_bot.sandbox.lineage import syncable_revision_ids
from alm_bot.sandbox.state import (
    DEPLOYED_STATES,
    Application,
    Model,
    Report,
    Revision,
    Task,
    TaskKind,
    User,
    World,
)
from alm_bot.sandbox.tasks import RETENTION_SECONDS, is_retained, oversized_failure

__all__ = [
    "NOT_STANDARD_MODE",
    "NO_STRUCTURAL_CHANGE",
    "alm_model",
    "applied_revision",
    "change_online_status",
    "create_revision",
    "get_report",
    "get_task",
    "latest_revision",
    "list_revisions",
    "list_sync_tasks",
    "running_sync",
    "start_task",
    "syncable_revisions",
]

NOT_WORKSPACE_ADMIN: Final = "The Workspace Administrator role is required to use ALM on this model."
NO_STRUCTURAL_CHANGE: Final = (
    "There are no structural changes since the last revision tag. "
    "Make a structural change to the model before adding a revision tag."
)
NOT_STANDARD_MODE: Final = "Revision tags can only be added to models in standard mode."
LOCKED: Final = "The model is locked and cannot change status."
MODEL_BUSY: Final = (
    "Model '{name}' is busy: a model synchronization is running on it. Try again when it has finished."
)

_ONLINE: Final = {"MAINTENANCE": "UNLOCKED", "PRODUCTION_MAINTENANCE": "PRODUCTION"}
_OFFLINE: Final = {"UNLOCKED": "MAINTENANCE", "ACTIVE": "MAINTENANCE", "PRODUCTION": "PRODUCTION_MAINTENANCE"}


def alm_model(world: World, user: User, model_id: str, *, report: bool = False) -> Model:
    """The model, if this user may use ALM on it. Report endpoints answer 424 instead of 403."""
    model = world.live_model(model_id)
    if model is None or not world.can_see(user, world.workspaces[model.workspace_id]):
        raise ApiError(404, f"Model '{model_id}' was not found.")
    if not world.is_workspace_admin(user, model):
        # Observed live: the six report endpoints answer 424 with an empty message.
        raise ApiError(424, "") if report else ApiError(403, NOT_WORKSPACE_ADMIN)
    if model.is_archived:
        raise ApiError(422, "Model is Archived")
    return model


def running_sync(world: World, model_id: str) -> Task | None:
    """The sync task running into this model, if any."""
    return next((t for t in world.unfinished.values() if t.kind == "sync" and t.model_id == model_id), None)


def _refuse_if_busy(world: World, model: Model, busy_check: bool) -> None:
    """409, as Anaplan answers for a busy model or a conflicting action (reference §7)."""
    if busy_check and running_sync(world, model.id) is not None:
        raise ApiError(409, MODEL_BUSY.format(name=model.name))


def change_online_status(world: World, user: User, model_id: str, status: str, *, busy_check: bool) -> None:
    """Online/offline: UNLOCKED⇄MAINTENANCE, PRODUCTION⇄PRODUCTION_MAINTENANCE; idempotent.

    Refused with 409 while a sync runs into the model (with ``busy_check``)."""
    model = alm_model(world, user, model_id)
    _refuse_if_busy(world, model, busy_check)
    if model.active_state == "LOCKED":
        raise ApiError(400, LOCKED)
    moves = _ONLINE if status == "online" else _OFFLINE
    model.active_state = moves.get(model.active_state, model.active_state)


def latest_revision(world: World, user: User, model_id: str) -> Revision | None:
    model = alm_model(world, user, model_id)
    latest = model.latest_revision_id
    return world.revisions[latest] if latest else None


_SORT_KEYS: Final[dict[str, Callable[[Revision, Application], Any]]] = {
    "id": lambda r, a: r.id,
    "name": lambda r, a: r.name.lower(),
    "createdOn": lambda r, a: r.created_on,
    "appliedOn": lambda r, a: a.applied_on,
    "createdBy": lambda r, a: r.created_by,
    "appliedBy": lambda r, a: a.applied_by,
}
REVISION_SORT_FIELDS: Final = tuple(_SORT_KEYS)


def list_revisions(
    world: World,
    user: User,
    model_id: str,
    window: tuple[float | None, float | None],
    sort: tuple[str, bool] | None,
) -> list[tuple[Revision, Application]]:
    """The model's revisions with when each reached it, oldest first unless ``sort`` says otherwise."""
    model = alm_model(world, user, model_id)
    after, before = window
    rows = []
    for rev_id in model.revision_ids:
        revision = world.revisions[rev_id]
        applied = revision.application_to(model.id)
        assert applied is not None, "every revision in a history was applied to that model"
        if (after is None or applied.applied_on >= after) and (before is None or applied.applied_on < before):
            rows.append((revision, applied))
    if sort is not None:
        field, descending = sort
        key = _SORT_KEYS[field]
        rows.sort(key=lambda row: key(*row), reverse=descending)
    return rows


def create_revision(
    world: World, user: User, model_id: str, name: str, description: str | None, now: float
) -> Revision:
    """Tag the model's pending structural changes as a new revision (standard mode only)."""
    model = alm_model(world, user, model_id)
    if not model.is_standard:
        mode = "deployed mode" if model.active_state in DEPLOYED_STATES else "locked"
        raise ApiError(400, f"{NOT_STANDARD_MODE} Model '{model.name}' is {mode}.")
    if not model.pending_changes:
        raise ApiError(400, NO_STRUCTURAL_CHANGE)
    method = "User added revision via API"
    revision = Revision(new_id(), name, description, now, user.guid, method, tuple(model.pending_changes))
    revision.applications.append(Application(model.id, now, user.guid, method))
    world.revisions[revision.id] = revision
    model.revision_ids.append(revision.id)
    model.pending_changes.clear()
    return revision


def applied_revision(world: World, user: User, model_id: str, revision_id: str) -> Revision:
    """The revision, if it was applied to the model (its ``appliedToModels`` is then readable)."""
    model = alm_model(world, user, model_id)
    if revision_id not in model.revision_ids:
        raise ApiError(404, f"Revision '{revision_id}' was not found for model '{model_id}'.")
    return world.revisions[revision_id]


def syncable_revisions(world: World, user: User, target_id: str, source_id: str | None) -> list[Revision]:
    target = alm_model(world, user, target_id)
    if not source_id:
        raise ApiError(400, "Missing 'sourceModelId' request parameter.")
    source = alm_model(world, user, source_id)
    return [world.revisions[rev_id] for rev_id in syncable_revision_ids(source, target)]


def _body_model(world: World, user: User, model_id: str, *, report: bool) -> Model:
    if world.live_model(model_id) is None:
        raise ApiError(400, f"Invalid sourceModelId: model '{model_id}' does not exist.")
    return alm_model(world, user, model_id, report=report)


def start_task(
    world: World,
    user: User,
    kind: TaskKind,
    target_id: str,
    pair: RevisionPair,
    now: float,
    duration: float,
    *,
    busy_check: bool,
) -> Task:
    """Create a sync or report task. Unknown ids are refused here (400); an incompatible pair is
    accepted and the task completes unsuccessfully, like the report example in APIARY. A second
    sync into a target that a sync is running into is refused with 409 (with ``busy_check``)."""
    report = kind != "sync"
    target = alm_model(world, user, target_id, report=report)
    if not report:
        _refuse_if_busy(world, target, busy_check)
    source = _body_model(world, user, pair.source_model_id, report=report)
    if pair.source_revision_id not in source.revision_ids:
        raise ApiError(400, f"Invalid sourceRevisionId: not a revision of model '{source.id}'.")
    if pair.target_revision_id not in target.revision_ids:
        raise ApiError(400, f"Invalid targetRevisionId: not a revision of model '{target.id}'.")
    world.task_seq += 1
    task = Task(
        id=new_id(),
        kind=kind,
        model_id=target.id,
        source_model_id=source.id,
        source_revision_id=pair.source_revision_id,
        target_revision_id=pair.target_revision_id,
        created_at=now,
        duration=duration,
        seq=world.task_seq,
        user_guid=user.guid,
    )
    if kind == "sync" and target.fail_next_sync:
        target.fail_next_sync = False
        task.forced_failure = oversized_failure(world.workspaces[target.workspace_id].name)
    elif kind == "sync" and target.skip_next_sync:
        target.skip_next_sync = False
        task.leaves_target = True
    world.tasks[task.id] = task
    world.unfinished[task.id] = task
    if kind == "sync":
        world.sync_tasks.setdefault(target.id, []).append(task)
    return task


def get_task(world: World, user: User, kind: TaskKind, target_id: str, task_id: str, now: float) -> Task:
    """A task of this kind on this target; task ids of one report type do not resolve as another."""
    target = alm_model(world, user, target_id, report=kind != "sync")
    task = world.tasks.get(task_id)
    if task is None or task.kind != kind or task.model_id != target.id or not is_retained(task, now):
        raise ApiError(404, f"Task '{task_id}' was not found for model '{target_id}'.")
    return task


def list_sync_tasks(world: World, user: User, target_id: str, now: float) -> list[Task]:
    """Sync tasks running or finished in the last 48 h, newest first."""
    target = alm_model(world, user, target_id)
    tasks = [t for t in world.sync_tasks.get(target.id, []) if is_retained(t, now)]
    return sorted(tasks, key=lambda t: (t.created_at, t.seq), reverse=True)


def get_report(
    world: World, user: User, kind: TaskKind, target_id: str, target_rev: str, source_rev: str, now: float
) -> Report:
    """A generated report, until 48 h after its generation (reading it does not extend that)."""
    target = alm_model(world, user, target_id, report=True)
    report = world.reports.get((kind, target.id, target_rev, source_rev))
    if report is None or report.generated_at + RETENTION_SECONDS <= now:
        raise ApiError(
            404, "The report was not found: it was never generated for these revisions, or it expired."
        )
    return report
