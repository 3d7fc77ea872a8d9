"""``alm-bot mcp``: the MCP tools over stdio, for an assistant running on the user's machine.

The caller acts as ``ALM_BOT_MCP_ACTOR`` (or "mcp-local"), with origin "mcp", so approval cards
show "via assistant". With ``--sandbox`` an in-process `Sandbox` stands in for Anaplan and
`sandbox_defaults()` is the configuration's bottom layer.

Start-up is kept short: the server answers ``initialize`` and ``tools/list`` before the database,
the store and the Anaplan client are even imported; `LazyServices` opens them on the first tool
call that needs them and closes them when stdin closes.

A watcher runs here in follow-only mode: it polls Anaplan tasks (so outcomes are recorded) and
expires requests, but leaves the outbox (Slack cards, DMs) alone — delivering with a null notifier
would mark those notices sent and lose them for an ``alm-bot serve`` sharing the database, which
posts them.
Logs go to stderr only: stdout is the protocol.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskGroup, TaskStatus

if TYPE_CHECKING:
    from alm_bot.config import Settings
    from alm_bot.operations import Operations

__all__ = ["LazyServices", "main", "serve_stdio"]


class LazyServices:
    """Opens the services on first use, keeps them open in a task of its own, closes them at exit."""

    def __init__(self, settings: Settings, *, sandbox: bool) -> None:
        self._settings = settings
        self._sandbox = sandbox
        self._ops: Operations | None = None
        self._lock = anyio.Lock()
        self._closing = anyio.Event()
        self._task_group: TaskGroup | None = None

    async def ops(self) -> Operations:
        """The shared `Operations`, opening the services if this is the first call."""
        if self._ops is None:
            async with self._lock:
                if self._ops is None:
                    if self._task_group is None:
                        raise RuntimeError("LazyServices.ops() called outside LazyServices.running()")
                    self._ops = await self._task_group.start(self._hold)
        return self._ops

    @asynccontextmanager
    async def running(self) -> AsyncIterator[LazyServices]:
        async with anyio.create_task_group() as task_group:
            self._task_group = task_group
            try:
                yield self
            finally:
                # Let the holding task leave open_services normally (a cancelled task could not
                # await the engine's and client's clean-up).
                self._closing.set()

    async def _hold(self, *, task_status: TaskStatus[Operations]) -> None:
        from alm_bot.notify import NullNotifier
        from alm_bot.services import open_services

        sandbox = None
        if self._sandbox:
            from alm_bot.sandbox import Sandbox

            sandbox = Sandbox()
        async with open_services(self._settings, sandbox=sandbox) as services:
            # Follow Anaplan tasks and expire requests here too, but leave the notices (Slack
            # cards, DMs) in the outbox for `alm-bot serve`, which has a notifier for them.
            watcher = services.start_watcher(NullNotifier(), deliver=False)
            async with anyio.create_task_group() as background:
                background.start_soon(watcher.run)
                task_status.started(services.ops)
                await self._closing.wait()
                background.cancel_scope.cancel()


async def serve_stdio(settings: Settings, *, sandbox: bool = False, read_only: bool = False) -> None:
    """Serve until stdin closes."""
    from alm_bot.mcp.deps import LOCAL_ACTOR
    from alm_bot.mcp.server import build_mcp_server

    services = LazyServices(settings, sandbox=sandbox)
    server = build_mcp_server(
        services.ops,
        read_only=read_only or settings.mcp.read_only,
        default_actor=settings.mcp_actor or LOCAL_ACTOR,
    )
    async with services.running():
        await server.run_stdio_async()


def main(*, sandbox: bool = False, read_only: bool = False) -> int:
    """``alm-bot mcp``: load the settings, configure logging to stderr, serve stdio."""
    from alm_bot.config import load_settings
    from alm_bot.errors import ConfigError
    from alm_bot.logs import configure_logging

    defaults = _sandbox_defaults() if sandbox else None
    settings = load_settings(defaults=defaults)
    if not sandbox and not settings.anaplan_credentials_present:
        raise ConfigError(
            [
                "environment: Anaplan credentials are missing: set ANAPLAN_USERNAME and ANAPLAN_PASSWORD, "
                "or ANAPLAN_CERTIFICATE and ANAPLAN_PRIVATE_KEY (or run alm-bot mcp --sandbox to try it)"
            ]
        )
    configure_logging(settings.log_format, secrets=settings.secret_values())
    if settings.mcp_actor is None:
        print("alm-bot mcp: ALM_BOT_MCP_ACTOR is not set; acting as mcp-local.", file=sys.stderr)
    anyio.run(lambda: serve_stdio(settings, sandbox=sandbox, read_only=read_only))
    return 0


def _sandbox_defaults() -> dict[str, object]:
    from alm_bot.sandbox.defaults import sandbox_defaults

    return sandbox_defaults()
