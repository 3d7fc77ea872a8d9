"""Fixtures for the MCP front end: a sandbox tenant, settings on a fresh SQLite file, open services,
and MCP servers/clients over them.

The Anaplan side is the in-process sandbox (``task_duration`` 0 unless a test asks for steps), the
store is a real SQLite file under ``tmp_path`` (a copy of one migrated once, `tests.world`): nothing
of ours is mocked. Tests that want Slack and the assistant on one core use the ``world`` fixture.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from alm_bot.config import Settings
from alm_bot.mcp import build_mcp_server
from alm_bot.notify import NullNotifier
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import Services, open_services
from tests.mcp.sandboxed import sandbox_settings
from tests.world import copied_if_new_sqlite


@pytest.fixture
def task_duration() -> float:
    """Seconds a sandbox task runs; override in a module that needs to see progress."""
    return 0.0


@pytest.fixture
def sandbox(task_duration: float) -> Sandbox:
    return Sandbox(task_duration=task_duration)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(tmp_path)


@pytest.fixture
async def services(settings: Settings, sandbox: Sandbox) -> AsyncIterator[Services]:
    """Open services with a watcher following tasks beside them, as in ``alm-bot mcp`` and ``serve``
    (waiting tools await what it stores). It stops between two passes, never inside one."""
    migrated = await copied_if_new_sqlite(settings.database_url.get_secret_value())
    async with (
        open_services(settings, sandbox=sandbox, upgrade=not migrated) as opened,
        anyio.create_task_group() as tg,
    ):
        watcher = opened.start_watcher(NullNotifier(), deliver=False, idle_seconds=0.02)
        tg.start_soon(watcher.run)
        yield opened
        watcher.stop()


@pytest.fixture
def unprotect_test(sandbox: Sandbox) -> None:
    """FP&A TEST is deployed in the seed (so protected); put it in standard mode, so changes run at once."""
    sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")


@pytest.fixture
def make_server(services: Services, settings: Settings) -> Callable[..., MCPServer]:
    def make(*, read_only: bool = False) -> MCPServer:
        return build_mcp_server(services.ops, read_only=read_only, default_actor=settings.mcp_actor)

    return make


@pytest.fixture
async def client(make_server: Callable[..., MCPServer]) -> AsyncIterator[Client]:
    async with Client(make_server()) as connected:
        yield connected
