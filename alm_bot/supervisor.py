"""serve's supervisor: background work that stops is started again; what cannot be kept up stops serve.

serve runs a few long tasks beside its HTTP routes (the watcher, the Slack link, the MCP session
manager). A task that raises — a database blip the task did not expect, a bug — must neither take
the rest down nor leave a half-alive process (routes answering while the watcher is gone: approvals
starting syncs nobody follows). `Supervisor.keep` restarts a task with backoff and one log line per
crash; a task that keeps crashing (``max_crashes`` within ``window`` seconds), or one that cannot be
restarted, calls ``on_fatal``: serve then stops and exits 1, so that its orchestrator restarts it.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio

__all__ = ["Supervisor"]

log = logging.getLogger("alm_bot.supervisor")


@dataclass
class Supervisor:
    """Keeps background tasks running; ``on_fatal(reason)`` when one cannot be kept running."""

    on_fatal: Callable[[str], None]
    max_crashes: int = 5
    window: float = 60.0
    backoff_max: float = 15.0
    failed: str | None = field(default=None, init=False)

    async def keep(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run ``run()``; when it raises, run it again after a pause. Returns when ``run()`` returns."""
        crashes: deque[float] = deque()
        while True:
            try:
                await run()
            except Exception as exc:  # whatever stopped it, the answer is the same: restart, or give up
                now = time.monotonic()
                crashes.append(now)
                while crashes and now - crashes[0] > self.window:
                    crashes.popleft()
                if len(crashes) >= self.max_crashes:
                    self.fail(f"the {name} failed {len(crashes)} times in {self.window:g}s: {_what(exc)}")
                    return
                delay = min(self.backoff_max, 0.5 * 2 ** (len(crashes) - 1))
                log.error(
                    "the %s stopped (%s); restarting it in %.1fs",
                    name,
                    _what(exc),
                    delay,
                    exc_info=len(crashes) == 1 and not isinstance(exc, ConnectionError),
                )
                await anyio.sleep(delay)
                continue
            return

    async def once(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run a task that cannot be restarted: if it raises, serve must stop."""
        try:
            await run()
        except Exception as exc:
            self.fail(f"the {name} stopped and cannot be restarted: {_what(exc)}")

    def fail(self, reason: str) -> None:
        """Give up: log once, remember why, and tell serve to stop."""
        if self.failed is None:
            self.failed = reason
            log.error("stopping serve (exit 1) so that it can be restarted: %s", reason)
            self.on_fatal(reason)


def _what(exc: BaseException) -> str:
    """One short line: the exception's kind and the first line of its message (SQL errors run long)."""
    if isinstance(exc, BaseExceptionGroup):
        exc = exc.exceptions[0]
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {first[:300]}"
