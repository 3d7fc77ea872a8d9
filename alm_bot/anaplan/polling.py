"""Watching an Anaplan task until it finishes, and judging how it finished.

Starting a task and watching it are separate steps (the bot's watcher polls on its own schedule);
this module is only used when a caller asks an ``AlmClient`` method to ``wait_for_completion``.

The wait is bounded three ways (reference §9.6 item 4): an interval that grows (alm-bot's one
`Backoff` schedule: 0.5 s × 1.5 up to 5 s by default), an overall deadline (30 min) and a maximum
number of polls. It stops as soon as the
task leaves NOT_STARTED/IN_PROGRESS — COMPLETE, CANCELLING, CANCELLED or any state Anaplan may add —
and on a deadline raises ``TaskTimeout`` carrying the last state seen. Every wait goes through the
injected ``sleep`` and every deadline through the injected ``clock``.

A finished task is judged by its body, not its HTTP status: a failed sync is HTTP 200 with
``taskState: COMPLETE`` and ``result.successful: false`` (reference §6), which becomes ``TaskFailed``
with Anaplan's title and message. A cancelled task is a failure too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from alm_bot.anaplan.models import CompletedReportTask, CompletedSyncTask, PendingTask
from alm_bot.anaplan.retry import Sleep
from alm_bot.anaplan.verdict import RUNNING_STATES, verdict_of
from alm_bot.backoff import Backoff
from alm_bot.errors import TaskFailed, TaskTimeout

__all__ = ["RUNNING_STATES", "PollPolicy", "require_success", "wait_for_task"]

R = TypeVar("R", bound=PendingTask | CompletedSyncTask | CompletedReportTask)
C = TypeVar("C", CompletedSyncTask, CompletedReportTask)


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """How to wait for a task: growing intervals, an overall deadline, a maximum number of polls."""

    initial_interval: float = 0.5
    growth: float = 1.5
    max_interval: float = 5.0
    deadline: float = 30 * 60.0
    max_polls: int = 1000

    def __post_init__(self) -> None:
        if self.initial_interval <= 0 or self.growth < 1 or self.max_interval < self.initial_interval:
            raise ValueError("PollPolicy intervals must be positive and must not shrink")
        if self.deadline <= 0 or self.max_polls < 1:
            raise ValueError("PollPolicy needs a positive deadline and at least one poll")

    @property
    def schedule(self) -> Backoff:
        return Backoff(self.initial_interval, self.growth, self.max_interval)


async def wait_for_task(
    task: PendingTask,
    fetch: Callable[[str], Awaitable[R]],
    *,
    policy: PollPolicy,
    sleep: Sleep,
    clock: Callable[[], float],
    what: str,
    path: str,
) -> PendingTask | R:
    """Poll ``fetch(task_id)`` until the task stops running; at least one poll is always made.

    ``what`` names the task in messages ("sync", "comparison report"); ``path`` is the task's path.
    """
    started = clock()
    deadline = started + policy.deadline
    schedule = policy.schedule
    interval = schedule.first
    current: PendingTask | R = task
    polls = 0
    while polls == 0 or current.task_state in RUNNING_STATES:
        remaining = deadline - clock()
        if remaining <= 0 or polls >= policy.max_polls:
            raise TaskTimeout(
                f"Anaplan's {what} task {current.task_id} was still {current.task_state} after "
                f"{clock() - started:.0f} s ({polls} checks). It may still finish: check its status later "
                "before starting it again.",
                task=current,
                path=path,
            )
        await sleep(min(interval, remaining))
        current = await fetch(current.task_id)
        polls += 1
        interval = schedule.after(interval)
    return current


def require_success(task: PendingTask | C, completed: type[C], *, what: str, path: str) -> C:
    """The task if it completed successfully; otherwise ``TaskFailed`` with the task's `Verdict`."""
    verdict = verdict_of(task, what=what)
    if isinstance(task, completed) and verdict is not None and verdict.successful:
        return task
    if verdict is None:  # pragma: no cover - only called once the task stopped running
        raise AssertionError(f"require_success called on a running task {task.task_id}")
    raise TaskFailed(
        verdict.title or f"The {what} failed", verdict.detail or "", task_id=task.task_id, path=path
    )
