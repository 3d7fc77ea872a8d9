"""ALM tasks: their state derived lazily from the clock, and their effects applied exactly once.

No background work runs. A task's state is a function of (now − created) and its duration:
IN_PROGRESS, then COMPLETE — the only two states Anaplan's ALM documentation shows. There is no
``progress`` field (the ALM examples have none); ``currentStep`` ("Applying revision", then
"Complete." or "Failed.") is shown only on the tasks `Fidelity` picks. Before every request the
sandbox calls `settle`, which finishes each task whose time has come, in creation order — a sync
moves the target to the source revision, a report task stores its report — so effects happen once,
at the task's own finishing time, whether or not anybody polls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.sandbox.lineage import revisions_between, sync_is_compatible
from alm_bot.sandbox.state import Application, Report, Task, TaskFailure, TaskKind, World

__all__ = [
    "RETENTION_SECONDS",
    "TaskProgress",
    "incompatible_failure",
    "is_retained",
    "oversized_failure",
    "progress_of",
    "settle",
]

RETENTION_SECONDS: Final = 48 * 3600
"""Finished tasks are listed, and reports kept, for 48 h (reference §8 rule 5)."""
_PRUNE_EVERY_SECONDS: Final = 600.0

_STEPS: Final[dict[TaskKind, tuple[str, ...]]] = {
    "sync": ("Preparing synchronization", "Comparing revisions", "Applying revision", "Saving model"),
    "comparison": ("Loading revisions", "Comparing revisions", "Writing report", "Saving report"),
    "summary": ("Loading revisions", "Comparing revisions", "Counting changes", "Saving summary"),
}


@dataclass(frozen=True, slots=True)
class TaskProgress:
    state: str
    current_step: str | None


def progress_of(task: Task, now: float, fidelity: Fidelity) -> TaskProgress:
    """What a poll of ``task`` sees at ``now`` (call `settle` first, so finished tasks are done)."""
    shows_step = fidelity.shows_current_step(task.seq)
    if task.finished:
        return TaskProgress("COMPLETE", ("Failed." if task.failure else "Complete.") if shows_step else None)
    if not shows_step:
        return TaskProgress("IN_PROGRESS", None)
    fraction = (now - task.created_at) / task.duration if task.duration > 0 else 1.0
    steps = _STEPS[task.kind]
    return TaskProgress("IN_PROGRESS", steps[min(int(fraction * len(steps)), len(steps) - 1)])


def is_retained(task: Task, now: float) -> bool:
    return not task.finished or task.finishes_at + RETENTION_SECONDS > now


def incompatible_failure() -> TaskFailure:
    return TaskFailure(
        "The target and source revisions are incompatible",
        "The source revision is not newer than, or not descended from, the target model's latest "
        "revision. Choose a revision from the syncable revisions of the target model.",
    )


def oversized_failure(workspace_name: str) -> TaskFailure:
    return TaskFailure(
        "Model Synchronization Failed",
        f"The synchronization would exceed the size limit of workspace '{workspace_name}'.",
        "Ask your Anaplan administrator to raise the workspace size allowance, "
        "or reduce the size of the target model, then synchronize again.",
    )


def settle(world: World, now: float) -> None:
    """Finish every task whose time has come, oldest first; prune what retention dropped."""
    if world.unfinished:
        due = [task for task in world.unfinished.values() if task.finishes_at <= now]
        for task in due:
            _finish(world, task)
            del world.unfinished[task.id]
    if now - world.last_pruned >= _PRUNE_EVERY_SECONDS:
        _prune(world, now)


def _finish(world: World, task: Task) -> None:
    task.finished = True
    source = world.models[task.source_model_id]
    target = world.models[task.model_id]
    if task.forced_failure is not None:
        task.failure = task.forced_failure
    elif task.kind == "sync":
        if sync_is_compatible(source, target, task.target_revision_id, task.source_revision_id):
            if not task.leaves_target:  # the skip-next-sync fault: "successful", target unchanged
                _apply_revision(world, task)
        else:
            task.failure = incompatible_failure()
    else:
        _store_report(world, task)


def _store_report(world: World, task: Task) -> None:
    source = world.models[task.source_model_id]
    covered = revisions_between(source, task.target_revision_id, task.source_revision_id)
    if covered is None:
        task.failure = incompatible_failure()
        return
    key = (task.kind, task.model_id, task.target_revision_id, task.source_revision_id)
    world.reports[key] = Report(
        task.kind,
        task.model_id,
        task.source_model_id,
        task.target_revision_id,
        task.source_revision_id,
        generated_at=task.finishes_at,
        revision_ids=tuple(covered),
    )


def _apply_revision(world: World, task: Task) -> None:
    target = world.models[task.model_id]
    revision = world.revisions[task.source_revision_id]
    target.revision_ids.append(revision.id)
    revision.applications.append(
        Application(target.id, task.finishes_at, task.user_guid, "Revision synchronized")
    )
    target.last_modified = task.finishes_at
    target.last_modified_by = task.user_guid
    target.last_saved_serial_number += 1


def _prune(world: World, now: float) -> None:
    world.last_pruned = now
    for task_id in [t.id for t in world.tasks.values() if not is_retained(t, now)]:
        del world.tasks[task_id]
    for model_id, tasks in world.sync_tasks.items():
        world.sync_tasks[model_id] = [t for t in tasks if t.id in world.tasks]
    for key in [k for k, r in world.reports.items() if r.generated_at + RETENTION_SECONDS <= now]:
        del world.reports[key]
