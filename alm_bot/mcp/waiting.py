"""Waiting for an Anaplan task inside one tool call: bounded, with progress, never forever.

The core starts tasks and never waits for them (the watcher follows them). An assistant, though,
often wants "sync and tell me when it is done". `wait_for_task` polls the task through the core's
read operations, with intervals that grow (quick answers for quick tasks, few calls for slow ones),
reports progress to the client after every poll, and gives up after ``max_wait`` seconds, handing
back the task as last seen so the tool can return a handle to check later.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Generic, Protocol, TypeVar

import anyio

from alm_bot.errors import AlmBotError

__all__ = ["FIRST_INTERVAL", "LONGEST_INTERVAL", "Progress", "Waited", "progress_message", "wait_for_task"]

log = logging.getLogger("alm_bot.mcp.waiting")

FIRST_INTERVAL: Final = 0.25
GROWTH: Final = 1.6
LONGEST_INTERVAL: Final = 5.0


class TaskLike(Protocol):
    @property
    def task_id(self) -> str: ...
    @property
    def task_state(self) -> str: ...
    @property
    def current_step(self) -> str | None: ...
    @property
    def progress(self) -> float | None: ...
    @property
    def is_finished(self) -> bool: ...


T = TypeVar("T", bound=TaskLike)
Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""``ctx.report_progress``: (progress so far, total, message)."""


@dataclass(frozen=True)
class Waited(Generic[T]):
    """The task as last seen (None if it could not be read at all), and why waiting stopped early."""

    task: T | None
    note: str | None = None


def progress_message(label: str, task: TaskLike) -> str:
    """``sync task 1A2B…: IN_PROGRESS, 40% (Merging model)``."""
    parts = [task.task_state]
    if task.progress is not None:
        parts.append(f"{task.progress:.0%}")
    text = ", ".join(parts)
    if task.current_step:
        text += f" ({task.current_step})"
    return f"{label} task {task.task_id}: {text}"


async def wait_for_task(
    fetch: Callable[[], Awaitable[T]],
    report: Progress,
    *,
    max_wait: float,
    label: str,
) -> Waited[T]:
    """Poll until ``fetch()`` returns a finished task or ``max_wait`` seconds have passed.

    Progress is reported after every poll as seconds waited out of ``max_wait`` (always increasing,
    as the protocol asks), with Anaplan's state, percentage and step in the message. A core error
    while polling stops the wait — the task itself may well be fine — and becomes the note.
    """
    start = anyio.current_time()
    interval = FIRST_INTERVAL
    task: T | None = None
    while True:
        try:
            task = await fetch()
        except AlmBotError as exc:
            log.info("stopped waiting for a %s task: %s", label, exc)
            return Waited(task, note=f"Stopped waiting because checking the task failed: {exc}")
        waited = anyio.current_time() - start
        await report(min(waited, max_wait), max_wait, progress_message(label, task))
        remaining = max_wait - waited
        if task.is_finished or remaining <= 0:
            return Waited(task)
        await anyio.sleep(min(interval, remaining))
        interval = min(interval * GROWTH, LONGEST_INTERVAL)
