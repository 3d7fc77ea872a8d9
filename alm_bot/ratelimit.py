"""The watcher's Anaplan request budget: never more than ``rate`` requests in any one-second window.

Anaplan rate-limits per tenant, and the same tenant serves the people working in it, so the bot's
polling must stay inside ``[watcher] anaplan_requests_per_second`` *in every second as Anaplan
counts*, not just on average. Two simpler schemes failed that in tools/bench.py:

- a token bucket lets ``2 × rate`` through in one second (a full bucket plus a second of refill);
- a sliding window over the moments requests were *allowed* still let 11 through against 10:
  under load, the time between allowing a request and Anaplan receiving it varies by more than any
  small margin, so a late request from one second and a prompt one from the next meet.

`RequestBudget` therefore counts a request from the moment it is allowed until its answer is back
(`slot()`), and for a window's length after that. A new request may start only while fewer than
``rate`` are in flight or answered within the last window. Whenever Anaplan received it, every
other request it received in the second before was, at that time, still in flight or answered
within the window — so no second ever holds more than ``rate``. Up to ``rate`` may still go at once
(many tasks finishing together are all polled at once); the price is that slow answers slow the
pace, which is what a budget should do.

When Anaplan still answers 429, `pause_for()` stops everything for the time its Retry-After asks,
and afterwards requests resume at the steady pace rather than in a burst. Clock and sleep are
injected so tests never wait for real.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio

__all__ = ["RequestBudget"]

_EPSILON = 1e-9


class RequestBudget:
    """``async with budget.slot(): <one request>`` — at most ``rate`` in any one-second window."""

    def __init__(
        self,
        rate: float,
        *,
        margin: float = 0.02,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # A fractional rate rounds down (7.5/s allows 7 per second); below 1/s, one per 1/rate seconds.
        self.limit = max(1, math.floor(rate + _EPSILON))
        # The margin covers the difference between our clock and Anaplan's over one window.
        self.window = max(1.0, self.limit / rate) + margin
        self._clock = clock
        self._sleep = sleep
        self._answered: deque[float] = deque()  # when recent requests' answers came back
        self._in_flight = 0
        self._paused_until = 0.0
        self._lock = anyio.Lock()

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Wait for room in the budget, then hold it while the request runs (and a window after)."""
        async with self._lock:  # waiters are served in arrival order
            while (wait := self._wait_needed()) > 0:
                await self._sleep(wait)
            self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._answered.append(self._clock())

    def pause_for(self, seconds: float) -> None:
        """Anaplan said 429 with Retry-After: send nothing until then, then resume at the steady pace."""
        until = max(self._paused_until, self._clock() + seconds)
        self._paused_until = until
        step = self.window / self.limit
        # As if one request had been answered every `step` until `until`: the next may go then,
        # one per step after.
        self._answered = deque(until - self.window + step * k for k in range(self.limit))

    def _wait_needed(self) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        while self._answered and now - self._answered[0] >= self.window - _EPSILON:
            self._answered.popleft()
        if self._in_flight + len(self._answered) < self.limit:
            return 0.0
        if self._answered:  # the oldest answer leaves the window then
            return self._answered[0] + self.window - now
        return self.window / self.limit  # all in flight: look again once a request could have ended
