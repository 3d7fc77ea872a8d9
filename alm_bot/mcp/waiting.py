"""Waiting for an Anaplan task inside one tool call: on the stored record, bounded, with progress.

The core starts tasks and never waits for them; the watcher is the only poller. It follows every task,
stores what it sees (the step, then the outcome) and publishes a change each time. An assistant often
wants "sync and tell me when it is done", so `wait_for_task` awaits that stored record with
`Changes.wait_until` — a store read after every change and every `RECHECK` seconds (a change another
replica committed), never an Anaplan poll — reports the stored step to the client as progress, and
gives up after ``max_wait`` seconds. Then it reads the task from Anaplan once, so the tool can hand
back the task as it is (or a handle to check later).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Generic, TypeVar

import anyio

from alm_bot.errors import AlmBotError

if TYPE_CHECKING:
    from alm_bot.changes import Changes
    from alm_bot.store import TrackedTask

__all__ = ["RECHECK", "Progress", "Waited", "progress_message", "wait_for_task"]

log = logging.getLogger("alm_bot.mcp.waiting")

RECHECK: Final = 2.0
"""Seconds between store reads while no change is published (a change committed by another replica)."""

T = TypeVar("T")
Progress = Callable[[float, float | None, str | None], Awaitable[None]]
"""``ctx.report_progress``: (progress so far, total, message)."""


@dataclass(frozen=True)
class Waited(Generic[T]):
    """The task as read at the end (None if it could not be read), and why waiting stopped early."""

    task: T | None
    note: str | None = None


def progress_message(label: str, task_id: str, followed: TrackedTask | None) -> str:
    """``sync task 1A2B…: IN_PROGRESS`` from the stored record (its step, or how it ended)."""
    if followed is None:
        return f"{label} task {task_id}: not followed yet"
    if followed.state == "finished":
        outcome = followed.result
        ended = "succeeded" if outcome is not None and outcome.successful else "failed"
        return f"{label} task {task_id}: {(outcome.task_state if outcome else None) or 'finished'}, {ended}"
    return f"{label} task {task_id}: {followed.last_step or 'started, not checked yet'}"


async def wait_for_task(
    changes: Changes,
    follow: Callable[[], Awaitable[TrackedTask | None]],
    read: Callable[[], Awaitable[T]],
    report: Progress,
    *,
    max_wait: float,
    label: str,
    task_id: str,
) -> Waited[T]:
    """Await the stored record of the task until it is finished or ``max_wait`` seconds have passed.

    Progress is reported at each store read whose time moved on, as seconds waited out of ``max_wait``
    (always increasing, as the protocol asks), with the stored step in the message. A failing read —
    of the store or, at the end, of Anaplan — stops the wait and becomes the note; the task itself may
    well be fine.
    """
    start = anyio.current_time()
    reported = -1.0

    async def finished() -> TrackedTask | None:
        nonlocal reported
        followed = await follow()
        waited = min(anyio.current_time() - start, max_wait)
        if waited > reported:
            reported = waited
            await report(waited, max_wait, progress_message(label, task_id, followed))
        return followed if followed is not None and followed.state == "finished" else None

    try:
        await changes.wait_until(finished, max_wait=max_wait, recheck=RECHECK)
        return Waited(await read())
    except AlmBotError as exc:
        log.info("stopped waiting for a %s task: %s", label, exc)
        return Waited(None, note=f"Stopped waiting because checking the task failed: {exc}")
