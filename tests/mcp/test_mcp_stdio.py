"""`alm-bot mcp --sandbox` over real stdio: a spawned process, a real SQLite file, the SDK client.

One server process is shared by the module's tests (spawning costs more than the tests), so the
tests only add requests and never depend on each other's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from alm_bot.store import Store
from tests.mcp.calls import ok, refused
from tests.mcp.catalogue import ALL_TOOLS, CHANGING_TOOLS

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ACTOR = "U0STDIO:Grace Hopper"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stdio")


def database_url(workdir: Path) -> str:
    return f"sqlite:///{workdir / 'alm-bot.db'}"


def server_parameters(workdir: Path, *arguments: str) -> StdioServerParameters:
    # The stdio client passes the child only a few variables: give it exactly what it needs. The
    # working directory is empty, so no developer's .env or config file leaks in.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "ALM_BOT_DATABASE_URL": database_url(workdir),
        "ALM_BOT_MCP_ACTOR": ACTOR,
    }
    return StdioServerParameters(
        command=sys.executable, args=["-m", "alm_bot.cli", "mcp", *arguments], env=env, cwd=str(workdir)
    )


@asynccontextmanager
async def spawned(workdir: Path, errlog: IO[str], *arguments: str) -> AsyncIterator[Client]:
    async with Client(stdio_client(server_parameters(workdir, *arguments), errlog=errlog)) as client:
        yield client


@pytest.fixture(scope="module")
def errlog(workdir: Path) -> Iterator[IO[str]]:
    with (workdir / "stderr.log").open("w+", encoding="utf-8") as handle:
        yield handle


@pytest.fixture(scope="module")
async def client(workdir: Path, errlog: IO[str]) -> AsyncIterator[Client]:
    async with spawned(workdir, errlog, "--sandbox") as connected:
        yield connected


async def test_tools_are_listed_over_stdio_with_annotations_and_schemas(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(tools) == ALL_TOOLS
    sync = tools["alm_sync_models"]
    assert sync.annotations is not None
    assert sync.annotations.destructive_hint is True
    assert sync.output_schema is not None
    assert "request_id" in sync.output_schema["properties"]
    assert "target_model" in sync.input_schema["required"]


async def test_reads_work_over_stdio_against_the_sandbox(client: Client) -> None:
    models = await ok(client, "alm_list_models")
    latest = await ok(client, "alm_get_latest_revision", {"model": "prod"})
    assert {"dev", "test", "prod"} <= {m["alias"] for m in models["models"]}
    assert latest["revision"]["name"] == "Headcount planning"


async def test_a_sync_into_prod_over_stdio_awaits_approval_requested_by_the_mcp_actor(
    client: Client, workdir: Path
) -> None:
    outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    assert outcome["status"] == "awaiting_approval"
    assert outcome["approvers"] == ["U0APPROVER1", "U0APPROVER2"]
    store = Store(database_url(workdir))
    try:
        request = await store.get_request(outcome["request_id"])
    finally:
        await store.dispose()
    assert request is not None
    assert (request.state, request.requester_id, request.requester_name, request.origin) == (
        "pending",
        "U0STDIO",
        "Grace Hopper",
        "mcp",
    )


async def test_an_unknown_model_over_stdio_is_a_tool_error_with_a_suggestion(client: Client) -> None:
    message = await refused(client, "alm_get_revisions", {"model": "tset"})
    assert "did you mean test?" in message


async def test_progress_reaches_a_stdio_client(client: Client) -> None:
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    # `alm-bot mcp --sandbox` runs tasks for 3 s: wait 1 s, which reports progress at least twice.
    arguments = {
        "source_model": "dev",
        "target_model": "prod",
        "wait_for_completion": True,
        "max_wait_seconds": 1,
    }
    result = await client.call_tool("alm_create_comparison_summary", arguments, progress_callback=on_progress)
    assert result.structured_content is not None
    assert result.structured_content["status"] in ("running", "succeeded")
    assert len(seen) >= 2
    assert "comparison summary task" in (seen[0] or "")


async def test_logs_go_to_stderr_not_into_the_protocol(client: Client, errlog: IO[str]) -> None:
    await refused(client, "alm_get_revisions", {"model": "nosuchmodel"})
    errlog.flush()
    errlog.seek(0)
    assert "alm_get_revisions" in errlog.read()


async def test_read_only_stdio_offers_no_changing_tool(workdir: Path, errlog: IO[str]) -> None:
    async with spawned(workdir, errlog, "--sandbox", "--read-only") as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
    assert tools == ALL_TOOLS - CHANGING_TOOLS


async def test_without_credentials_or_sandbox_it_exits_with_a_message_not_a_traceback(workdir: Path) -> None:
    parameters = server_parameters(workdir)
    with anyio.fail_after(60):
        finished = await anyio.run_process(
            [parameters.command, *parameters.args],
            env=parameters.env,
            cwd=parameters.cwd,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    stderr = finished.stderr.decode()
    assert finished.returncode == 1
    assert "Anaplan credentials are missing" in stderr
    assert "Traceback" not in stderr
    assert finished.stdout == b""
