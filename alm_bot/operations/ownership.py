"""Who is working on a request: a short lease, renewed while its owner works, and a deadline.

Every non-final state that needs a process (``approved``, ``executing`` before Anaplan's task is
recorded, and an unprotected ``requested`` about to run) carries ``lease_owner`` and
``lease_expires_at``. A ``scheduled`` request has no owner while it waits: its lease runs out at its
window's opening, when the watcher of one replica claims it (compare-and-set) and starts it.
The owner renews the lease every few seconds while it re-checks the plan and
talks to Anaplan; a process that dies stops renewing, its lease lapses within `LEASE`, and the
watcher settles the request (``operations.recovery``). ``deadline_at`` bounds how long a request may
keep failing to settle before it is failed with the reason. A lease that lapses while its owner is
merely slow is safe: every step is a compare-and-set that needs the lease (``held_by``).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any, Final

import anyio

from alm_bot.errors import StoreUnavailable
from alm_bot.store import Store
from alm_bot.task_groups import first_error_of_group

__all__ = ["CHECK_DEADLINE", "LEASE", "PROOF_DEADLINE", "Ownership", "default_owner"]

log = logging.getLogger("alm_bot.operations")

LEASE: Final = timedelta(seconds=10)
_RENEW_EVERY_SECONDS: Final = 3.0
# How long the stale-plan check may keep failing (retried with backoff) before the request fails.
CHECK_DEADLINE: Final = timedelta(minutes=10)
# How long recovery may wait for the evidence (a candidate task finishing) before it gives up.
PROOF_DEADLINE: Final = timedelta(minutes=30)
_UNSETTLED: Final = ("requested", "approved", "scheduled", "executing")


def default_owner() -> str:
    """A lease owner name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Ownership:
    """This process's name as a lease owner, and the lease fields it stamps."""

    def __init__(self, store: Store, clock: Callable[[], datetime], owner: str) -> None:
        self.store = store
        self.clock = clock
        self.owner = owner

    def taken(self, deadline: timedelta = CHECK_DEADLINE) -> dict[str, Any]:
        """Fields that give this process the lease, with a deadline ``deadline`` from now."""
        now = self.clock()
        return {"lease_owner": self.owner, "lease_expires_at": now + LEASE, "deadline_at": now + deadline}

    def released(self, retry_in: float = 0.0) -> dict[str, Any]:
        """Fields that give the lease back; the watcher takes the request up ``retry_in`` seconds later."""
        return {"lease_owner": None, "lease_expires_at": self.clock() + timedelta(seconds=retry_in)}

    async def claim(self, request_id: str) -> bool:
        """Take the lease of an unsettled request whose owner is gone; False if someone holds it."""
        async with self.store.transaction() as tx:
            claimed = await tx.claim_request(request_id, _UNSETTLED, self.owner, self.clock() + LEASE)
        return claimed is not None

    @asynccontextmanager
    async def renewing(self, request_id: str) -> AsyncIterator[None]:
        """Keep this process's lease on the request alive while the block runs.

        An error of the block comes out as itself, not wrapped in the task group's exception group.
        """
        with first_error_of_group():
            async with anyio.create_task_group() as tg:
                tg.start_soon(self._renew, request_id)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()

    async def _renew(self, request_id: str) -> None:
        while True:
            await anyio.sleep(_RENEW_EVERY_SECONDS)
            try:
                async with self.store.transaction() as tx:
                    until = self.clock() + LEASE
                    if (
                        await tx.update_request(request_id, held_by=self.owner, lease_expires_at=until)
                        is None
                    ):
                        return  # released, or taken over: nothing left to keep alive
            except StoreUnavailable as exc:
                log.warning("could not renew the lease of request %s: %s", request_id, exc)
