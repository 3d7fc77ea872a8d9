"""`alm-bot serve`: start-up, health, MCP over HTTP, refusals, SIGTERM, and what its logs never show.

Most tests run the real command in its own process (``python -m alm_bot.cli serve``) with an
explicit environment; the database-outage tests serve `build_app` in-process, because an outage must
happen while the app runs, and ``serve`` rightly refuses to start without a database.
"""

from __future__ import annotations

import json
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx2
import pytest

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.serve import build_app
from alm_bot.services import open_services, sandbox_defaults
from tests.live import WAIT, eventually, mcp_client, serving
from tests.mcp.calls import ok
from tests.mcp.catalogue import ALL_TOOLS
from tests.processes import Spawned, clean_env, run_alm_bot, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so one ``serve --sandbox`` process can serve the read-only tests of this module."""
    return "asyncio"


# --- helpers -----------------------------------------------------------------------------------


async def base_url_of(serve: Spawned) -> str:
    """The URL from the banner's first line, once the server accepts connections."""
    base = (await serve.line(r"^alm-bot is running on (http://\S+)$")).group(1)

    async def accepting() -> bool:
        try:
            async with httpx2.AsyncClient(timeout=WAIT) as http:
                await http.get(f"{base}/healthz")
        except httpx2.ConnectError:  # bound, not listening yet
            return False
        return True

    await eventually(accepting, f"{base} to accept connections")
    return base


async def health(base: str) -> tuple[int, dict[str, Any]]:
    async with httpx2.AsyncClient(timeout=WAIT) as http:
        response = await http.get(f"{base}/healthz")
    return response.status_code, response.json()


async def healthy(base: str) -> dict[str, Any]:
    """Wait for /healthz 200 (the watcher reports after its first pass); the body."""
    seen: dict[str, Any] = {}

    async def ok_now() -> bool:
        status, seen["body"] = await health(base)
        return status == 200

    try:
        await eventually(ok_now, f"{base}/healthz to answer 200")
    except AssertionError as exc:
        raise AssertionError(f"{exc}; its last answer: {seen.get('body')}") from None
    return seen["body"]


def leases_held(database: Path, pid: int) -> list[tuple[str, int]]:
    """(table, id) of the tracked tasks and notices leased by the process ``pid`` (owner host:pid:x)."""
    with closing(sqlite3.connect(database)) as db:
        return [
            (table, row_id)
            for table in ("tracked_task", "outbox")
            for (row_id,) in db.execute(f"SELECT id FROM {table} WHERE lease_owner LIKE ?", (f"%:{pid}:%",))  # noqa: S608
        ]


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
async def sandboxed(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Spawned]:
    """One ``alm-bot serve --sandbox --port 0``, for the tests that only look."""
    home = tmp_path_factory.mktemp("serve")
    env = clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{home / 'alm-bot.db'}")
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=home) as serve:
        yield serve


# --- start-up ------------------------------------------------------------------------------------


async def test_serve_with_the_sandbox_is_healthy_and_offers_every_tool_over_mcp(sandboxed: Spawned) -> None:
    base = await base_url_of(sandboxed)
    body = await healthy(base)
    async with mcp_client(f"{base}/mcp", None) as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        models = await ok(client, "alm_list_models")

    assert body == {"status": "ok", "database": "ok", "anaplan": "ok", "watcher": "ok"}
    assert tools == ALL_TOOLS
    assert {m["alias"] for m in models["models"] if m.get("alias")} >= {"dev", "test", "prod"}


async def test_the_banner_shows_the_mcp_url_a_client_snippet_and_that_slack_is_off(
    sandboxed: Spawned,
) -> None:
    base = await base_url_of(sandboxed)
    banner = sandboxed.stdout

    assert banner.splitlines()[0] == f"alm-bot is running on {base}"
    assert f"{base}/mcp" in banner
    snippet = json.loads(re.search(r"^\s*MCP client:\s+(\{.*\})$", banner, re.MULTILINE).group(1))  # type: ignore[union-attr]
    assert snippet == {"mcpServers": {"alm-bot": {"type": "http", "url": f"{base}/mcp"}}}
    assert re.search(r"^\s*Slack:\s+off\b", banner, re.MULTILINE), banner
    assert f"ANAPLAN_API_URL={base}/sandbox/2/0" in banner


async def test_without_anaplan_credentials_serve_refuses_to_start_and_names_the_variables(
    tmp_path: Path,
) -> None:
    env = clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}")
    refused = await run_alm_bot("serve", "--port", "0", env=env, cwd=tmp_path)

    assert refused.code == 1, refused
    assert "ANAPLAN_USERNAME" in refused.stderr
    assert "ANAPLAN_PASSWORD" in refused.stderr
    assert "--sandbox" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "alm-bot is running" not in refused.stdout


async def test_with_an_unreachable_database_serve_refuses_to_start_and_hides_the_password(
    tmp_path: Path,
) -> None:
    url = f"postgresql://alm:db-pass-93c1e7@127.0.0.1:{closed_port()}/alm"
    refused = await run_alm_bot(
        "serve", "--sandbox", "--port", "0", env=clean_env(ALM_BOT_DATABASE_URL=url), cwd=tmp_path
    )

    assert refused.code == 1, refused
    assert "does not answer" in refused.stderr
    assert "db-pass-93c1e7" not in refused.stderr + refused.stdout
    assert "Traceback" not in refused.stderr


async def test_sigterm_ends_serve_with_exit_code_0_and_gives_back_its_leases(tmp_path: Path) -> None:
    database = tmp_path / "alm-bot.db"
    env = clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{database}")
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
        base = await base_url_of(serve)
        await healthy(base)
        # Anaplan answers the change-summary polls a minute late: the watcher sits in a poll, leased.
        late = {"method": "GET", "path": "summaryReportTasks/.", "delay": 60, "times": 100}
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            (await http.post(f"{base}/sandbox/_sandbox/faults", json=late)).raise_for_status()
        async with mcp_client(f"{base}/mcp", None) as client:
            await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        await eventually(lambda: bool(leases_held(database, serve.pid)), "the watcher to hold a lease")

        code = await serve.stop()

    assert code == 0, serve
    assert leases_held(database, serve.pid) == []
    assert "Traceback" not in serve.stderr


# --- health when a part fails ----------------------------------------------------------------------


async def test_health_is_503_and_names_an_unreachable_database_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql://alm:db-pass-93c1e7@127.0.0.1:{closed_port()}/alm"
    settings = load_settings(env={"ALM_BOT_DATABASE_URL": url}, defaults=sandbox_defaults())
    async with (
        open_services(settings, sandbox=Sandbox(), upgrade=False) as services,
        serving(build_app(services)) as base,
    ):
        status, body = await health(base)

    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["database"].startswith("error: The database postgresql+asyncpg://alm:***@127.0.0.1:")
    assert body["anaplan"] == "ok"
    assert "db-pass-93c1e7" not in json.dumps(body)


async def test_after_a_database_outage_the_watcher_carries_on_and_health_recovers(tmp_path: Path) -> None:
    missing = tmp_path / "not-mounted-yet"  # SQLite cannot open a file in a missing directory
    database = f"sqlite:///{missing / 'alm-bot.db'}"
    settings = load_settings(env={"ALM_BOT_DATABASE_URL": database}, defaults=sandbox_defaults())
    async with (
        open_services(settings, sandbox=Sandbox(), upgrade=False) as services,
        serving(build_app(services)) as base,
    ):
        status, during = await health(base)
        missing.mkdir()  # the database is back
        await services.store.upgrade()
        after = await healthy(base)

    assert status == 503
    assert during["database"].startswith("error: The database sqlite+aiosqlite:///")
    assert after == {"status": "ok", "database": "ok", "anaplan": "ok", "watcher": "ok"}
