"""A token bucket that keeps the watcher inside its Anaplan request budget.

Anaplan rate-limits per tenant, and the same tenant serves the people working in it, so the bot
spends at most ``rate`` requests per second on polling, with bursts of at most ``burst``. When
Anaplan still answers 429, `pause_for()` empties the bucket for the time its Retry-After asks.
Clock and sleep are injected so tests never wait for real.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["TokenBucket"]

_EPSILON = 1e-9


class TokenBucket:
    """`await bucket.acquire()` before each request; never more than ``rate``/s on average."""

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = anyio.Lock()

    async def acquire(self) -> None:
        """Wait until a token is free, then take it. Waiters are served in arrival order."""
        async with self._lock:
            while True:
                wait = self._wait_needed()
                if wait <= 0:
                    self._tokens -= 1
                    return
                await self._sleep(wait)

    def pause_for(self, seconds: float) -> None:
        """Anaplan said 429 with Retry-After: spend nothing until then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._tokens = min(self._tokens, 0.0)

    def _wait_needed(self) -> float:
        now = self._clock()
        if now < self._paused_until:
            self._updated = self._paused_until
            return self._paused_until - now
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1 - _EPSILON:  # float refills land a hair short of a whole token
            return 0.0
        return (1 - self._tokens) / self.rate
