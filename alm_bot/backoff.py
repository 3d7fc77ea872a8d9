"""The one backoff schedule: waits that grow geometrically up to a cap, optionally jittered.

Every "wait a little longer each time" in alm-bot is a `Backoff`: the Anaplan client's retries
(`alm_bot.anaplan.retry`), waiting for a task with ``wait_for_completion`` (`alm_bot.anaplan.polling`),
the watcher's polls when nothing is known about a task, its pause while the database is down, and
the outbox's redelivery. Only the numbers differ, never the formula:

    wait before try n  =  min(cap, first × factor ** (n − 1)),  scaled down by up to ``jitter``

With ``jitter ≤ 1 − 1/factor`` the waits never shrink from one try to the next until the cap, and
clients that failed together spread out, at the cap too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True, slots=True)
class Backoff:
    """``first`` seconds, then ``factor`` times longer each time, never more than ``cap``."""

    first: float
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.0

    def __post_init__(self) -> None:
        if self.first <= 0 or self.factor < 1 or self.cap < self.first:
            raise ValueError("Backoff waits must be positive and must not shrink")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("Backoff.jitter must be between 0 and 1")

    def delay(self, attempt: int) -> float:
        """The wait before try ``attempt`` (1 = the first wait)."""
        ceiling = min(self.cap, self.first * self.factor ** max(0, attempt - 1))
        if not self.jitter:
            return ceiling
        return ceiling * (1.0 - self.jitter * random.random())  # noqa: S311 - jitter, not crypto

    def after(self, previous: float) -> float:
        """The wait that follows a wait of ``previous`` seconds (unjittered: for paced polling)."""
        return min(self.cap, max(self.first, previous * self.factor))
