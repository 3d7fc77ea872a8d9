"""When the watcher polls a running Anaplan task next: densely around its expected end, sparsely before.

Anaplan's ALM tasks say IN_PROGRESS until they are COMPLETE — no percentage, ``currentStep`` only
sometimes — so the watcher does not guess from progress; it learns. A target's recent successful
tasks of one kind took about as long as its next one will: their durations (stored in ``tracked_task``,
``created_at`` → ``finished_at``) give a `Window` around the expected end: the median duration, and
± 1.5 standard deviations in log space (durations spread multiplicatively). `Pacing.next_delay` says:

- nothing learnt yet: the cold schedule, alm-bot's one `Backoff` (``poll_min`` × 1.5 up to ``poll_max``);
- before the window: no poll until its start, but never more than ``poll_max`` apart (so a task that
  fails early is still seen within ``poll_max``) — the first poll included (`wait_before_first_poll`);
- inside the window: every ``near_end`` seconds at the expected end, a little less often away from
  it (+ half of ``near_end`` per standard deviation), since most tasks end near the median;
- past it (slower than ever before): the backoff again, growing from ``near_end``.

`TaskHistory` keeps the recent durations per (kind, target): read from the store the first time and
every few minutes (another replica's tasks count too), and updated at once when this watcher sees a
task finish. A duration is measured from tracking to the poll that saw the end, less half the
interval before that poll (the end lies somewhere in it).
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Protocol

from alm_bot.backoff import Backoff

__all__ = [
    "FinishedTask",
    "Pacing",
    "TaskHistory",
    "TaskLoader",
    "Window",
    "durations_of",
    "expected_window",
    "observed_duration",
]

SPREAD: Final = 1.5
"""Half-width of the window, in standard deviations of the log-durations."""
_SUREST: Final = 0.05  # identical durations still get a window of ± 7.5 %
_UNSURE: Final = 0.25  # one or two durations: assume a ± 45 % spread
_MOST_UNSURE: Final = 1.0

TaskLoader = Callable[[str, str, int], Awaitable[Sequence["FinishedTask"]]]
"""``(kind, model_id, limit)`` → the newest finished successful tasks (``Store.recent_successful_tasks``)."""


class FinishedTask(Protocol):
    """What a duration is learnt from: a tracked task's row."""

    created_at: datetime
    finished_at: datetime | None
    poll_interval_seconds: float


@dataclass(frozen=True, slots=True)
class Window:
    """When a task is expected to end: ``expected`` seconds after it started, give or take ``sigma``
    (the standard deviation of the log-durations); the window spans ± `SPREAD` of them."""

    expected: float
    sigma: float

    @property
    def early(self) -> float:
        return self.expected * math.exp(-SPREAD * self.sigma)

    @property
    def late(self) -> float:
        return self.expected * math.exp(SPREAD * self.sigma)

    def deviations(self, elapsed: float) -> float:
        """How many standard deviations ``elapsed`` is from the expected end."""
        return abs(math.log(max(elapsed, 1e-9) / self.expected)) / self.sigma


def expected_window(durations: Sequence[float]) -> Window | None:
    """The window for the next task, from the durations of earlier ones; None without any."""
    logs = [math.log(d) for d in durations if d > 0]
    if not logs:
        return None
    sigma = statistics.stdev(logs) if len(logs) >= 3 else _UNSURE
    return Window(math.exp(statistics.median(logs)), min(_MOST_UNSURE, max(_SUREST, sigma)))


def observed_duration(elapsed_at_end: float, interval_before: float) -> float:
    """How long a task ran, seen ``elapsed_at_end`` seconds after tracking began by a poll that came
    ``interval_before`` seconds after the one before it: the end lies in between, on average halfway."""
    return max(0.0, elapsed_at_end - interval_before / 2)


def durations_of(tasks: Sequence[FinishedTask]) -> list[float]:
    """The observed durations of finished tasks (in the order given)."""
    return [
        observed_duration((t.finished_at - t.created_at).total_seconds(), t.poll_interval_seconds)
        for t in tasks
        if t.finished_at is not None
    ]


@dataclass(frozen=True, slots=True)
class Pacing:
    """The polling schedule: ``cold`` when nothing is known, ``near_end`` inside the expected window.

    ``learn=False`` ignores history (a fixed-interval baseline is ``Backoff(i, 1.0, i)`` unlearnt).
    """

    cold: Backoff
    near_end: float
    learn: bool = True

    @property
    def longest(self) -> float:
        return self.cold.cap

    def next_delay(self, elapsed: float, previous: float, window: Window | None) -> float:
        """Seconds until the next poll of a task running for ``elapsed`` s, polled ``previous`` s ago."""
        if window is None or not self.learn:
            return self.cold.after(previous)
        if elapsed < window.early - self.near_end / 2:
            return min(self.longest, window.early - elapsed)
        if elapsed <= window.late:
            return min(self.longest, self.near_end * (1 + window.deviations(elapsed) / 2))
        return min(self.longest, max(self.near_end, previous * self.cold.factor))

    def wait_before_first_poll(self, elapsed: float, window: Window | None) -> float:
        """Seconds to wait before polling a task never polled yet (0: poll now)."""
        if window is None or not self.learn:
            return 0.0
        first = min(self.longest, window.early - self.near_end / 2)
        return max(0.0, first - elapsed)


@dataclass
class _Known:
    durations: list[float]
    loaded_at: float


@dataclass
class TaskHistory:
    """Recent durations per (kind, target), from the store and from what this watcher sees finish."""

    load: TaskLoader
    keep: int = 10
    reload_after: float = 300.0
    _known: dict[tuple[str, str], _Known] = field(default_factory=dict)

    async def window(self, kind: str, model_id: str) -> Window | None:
        key = (kind, model_id)
        known = self._known.get(key)
        if known is None or time.monotonic() - known.loaded_at > self.reload_after:
            known = _Known(durations_of(await self.load(kind, model_id, self.keep)), time.monotonic())
            self._known[key] = known
        return expected_window(known.durations)

    def record(self, kind: str, model_id: str, duration: float) -> None:
        """A task of ``kind`` into ``model_id`` just finished successfully after ``duration`` s."""
        known = self._known.get((kind, model_id))
        if known is not None:
            known.durations = [duration, *known.durations][: self.keep]
