"""What the watcher tells whoever counts its work (``alm_bot.metrics``), without depending on it.

The watcher holds a `WatcherEvents` and calls it at two points; by default nobody listens. Kept free
of any metrics library, so the watcher's imports stay what they were.
"""

from __future__ import annotations

from typing import Literal, Protocol

__all__ = ["NO_WATCHER_EVENTS", "LeaseQueue", "WatcherEvents"]

LeaseQueue = Literal["task", "outbox"]


class WatcherEvents(Protocol):
    def ticked(self) -> None:
        """One watcher pass finished."""

    def lease_lost(self, queue: LeaseQueue) -> None:
        """A row this watcher leased was taken over by another watcher before it could record it."""


class _Nobody:
    def ticked(self) -> None:
        pass

    def lease_lost(self, queue: LeaseQueue) -> None:
        pass


NO_WATCHER_EVENTS: WatcherEvents = _Nobody()
