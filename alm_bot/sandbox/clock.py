"""Sandbox time: the wall clock (or an injected clock) plus an offset that `advance()` grows.

Everything in the sandbox that depends on time — task progress, token expiry, report retention,
the rate-limit bucket — reads this one clock, so a test moves all of it forward at once without
sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["SandboxClock"]


class SandboxClock:
    """Epoch seconds: ``source() + offset``. ``source`` defaults to ``time.time``."""

    def __init__(self, source: Callable[[], float] | None = None) -> None:
        self._source = source or time.time
        self._offset = 0.0

    def now(self) -> float:
        return self._source() + self._offset

    def advance(self, seconds: float) -> None:
        """Move time forward; moving it backwards would let expired tokens and reports revive."""
        if seconds < 0:
            raise ValueError("sandbox time only moves forward")
        self._offset += seconds
