"""Injected faults: make the next N matching requests fail, or answer late.

A fault matches a method (or ``*``) and a regular expression searched in the request path below
the app's mount point (``/2/0/models/…/alm/syncTasks``, ``/token/authenticate``). What it does:

- ``status`` set: the request is answered with that status *without doing anything* (a 429 or 503
  before any work, like a gateway would), after ``delay`` seconds if one is given, with a
  ``Retry-After`` header when ``retry_after`` is given;
- only ``delay`` set: the request *is* carried out, and its answer is held back ``delay`` seconds —
  the worst case for a client that times out: the sync was started, but the client never heard so.

Each fault applies to ``times`` requests, then disappears. Faults are matched in the order they
were added; a request consumes at most one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Fault", "FaultList"]


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int | None
    times: int
    retry_after: float | None
    delay: float | None

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and self.path.search(path) is not None

    def describe(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path.pattern,
            "status": self.status,
            "times": self.times,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }


class FaultList:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(
        self,
        method: str,
        path_regex: str,
        status: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        delay: float | None = None,
    ) -> Fault:
        """Validate and register a fault; raises ValueError with a readable reason."""
        if status is None and not delay:
            raise ValueError("a fault needs a status, a delay, or both")
        if status is not None and not 400 <= status <= 599:
            raise ValueError("a fault status must be an HTTP error status (400-599)")
        if times < 1:
            raise ValueError("times must be at least 1")
        if (retry_after is not None and retry_after < 0) or (delay is not None and delay < 0):
            raise ValueError("retry_after and delay cannot be negative")
        try:
            pattern = re.compile(path_regex)
        except re.error as exc:
            raise ValueError(f"invalid path regex: {exc}") from None
        fault = Fault(method.upper(), pattern, status, times, retry_after, delay)
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, used up by one."""
        for fault in self._faults:
            if fault.matches(method, path):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    def __len__(self) -> int:
        return len(self._faults)

    def describe(self) -> list[dict[str, Any]]:
        return [fault.describe() for fault in self._faults]
