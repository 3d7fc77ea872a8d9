"""Change events: how a waiter in this process learns that the store changed, without polling Anaplan.

The lifecycle publishes after every committed transition and every recorded task outcome. Listeners
(the watcher's wake-up: a new notice to deliver) are called at once; waiters (an MCP tool that waits for a
request to finish) re-read the store after each change. Events are in-process only: a change committed by
another replica is seen through the bounded re-read that ``wait_until`` does every ``recheck`` seconds —
a cheap database read, never an Anaplan call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import anyio

__all__ = ["Changes"]

T = TypeVar("T")


class Changes:
    """Publish "the store changed"; subscribe a listener; or wait until a check on the store passes."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []
        self._waiters: set[anyio.Event] = set()

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` (cheap, non-blocking, e.g. ``watcher.wake``) after every change."""
        self._listeners.append(listener)

    def publish(self) -> None:
        """Something was committed: wake every waiter and call every listener."""
        waiters, self._waiters = self._waiters, set()
        for event in waiters:
            event.set()
        for listener in self._listeners:
            listener()

    async def wait_until(
        self, check: Callable[[], Awaitable[T | None]], *, max_wait: float, recheck: float = 2.0
    ) -> T | None:
        """Run ``check()`` until it returns a value (returned) or ``max_wait`` seconds pass (None).

        ``check`` runs at once, after every change, and at least every ``recheck`` seconds. The waiter
        registers before each check, so a change committed while the check runs is not missed.
        """
        with anyio.move_on_after(max_wait):
            while True:
                event = anyio.Event()
                self._waiters.add(event)
                try:
                    found = await check()
                    if found is not None:
                        return found
                    with anyio.move_on_after(recheck):
                        await event.wait()
                finally:
                    self._waiters.discard(event)
        return None
