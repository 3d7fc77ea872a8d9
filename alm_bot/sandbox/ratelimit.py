"""A tenant-style token bucket over the API and auth calls; an empty bucket means 429.

The bucket refills at ``rate`` tokens per second of *sandbox* time, up to ``burst``, so a test can
drain it, see the 429 and its ``Retry-After``, and refill it with `Sandbox.advance` — no sleeping.
``rate=None`` turns the limit off.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    def __init__(self, rate: float | None, burst: int, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.configure(rate, burst)

    def configure(self, rate: float | None, burst: int) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no limit)")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate
        self.burst = burst
        self._tokens = float(burst)
        self._updated = self._clock()

    def take(self) -> float | None:
        """Take one token: None when allowed, else the seconds until one is available."""
        if self.rate is None:
            return None
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return None
        return (1.0 - self._tokens) / self.rate
