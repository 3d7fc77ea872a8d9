"""`alm-bot serve`: start-up, health, MCP over HTTP, refusals, SIGTERM, and what its logs never show.

Most tests run the real command in its own process (``python -m alm_bot.cli serve``) with an
explicit environment; the database-outage tests serve `build_app` in-process, because an outage must
happen while the app runs, and ``serve`` rightly refuses to start without a database.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.serve import build_app
from alm_bot.services import open_services, sandbox_defaults
from tests.live import WAIT, eventually, mcp_client, serving
from tests.mcp.calls import ok
from tests.mcp.catalogue import ALL_TOOLS
from tests.processes import PROCESS_WAIT, Spawned, clean_env, run_alm_bot, sandbox_config, spawn_alm_bot
from tools.fake_slack import FakeSlack, sign, slash_command_body

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

    await eventually(accepting, f"{base} to accept connections", timeout=PROCESS_WAIT)
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

    assert body == {"status": "ok", "database": "ok", "anaplan": "ok", "watcher": "ok", "slack": "off"}
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
    assert after == {"status": "ok", "database": "ok", "anaplan": "ok", "watcher": "ok", "slack": "off"}


# --- logs ----------------------------------------------------------------------------------------

ANAPLAN_PASSWORD = "anaplan-pw-4f9b2d71"
BOT_TOKEN = "xoxb-logs-8c2e5a90d1"
SIGNING_SECRET = "logs-signing-secret-6e01b3"
MCP_TOKEN = "logs-mcp-token-2d7c94-00000000000000"
SECRETS = {
    "ANAPLAN_PASSWORD": ANAPLAN_PASSWORD,
    "Basic credentials": base64.b64encode(f"{seed.ADMIN_USER}:{ANAPLAN_PASSWORD}".encode()).decode(),
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "MCP token": MCP_TOKEN,
}


@asynccontextmanager
async def anaplan_sandbox(password: str) -> AsyncIterator[str]:
    """The sandbox on a loopback port, as a separate Anaplan would be; its admin logs in with ``password``."""
    sandbox = Sandbox(rate_limit_per_second=None)
    sandbox.world.users[seed.ADMIN_USER].password = password
    async with serving(create_app(sandbox)) as base:
        yield base


def anaplan_env(anaplan: str, password: str, home: Path, **more: str) -> dict[str, str]:
    """A real (not --sandbox) serve against ``anaplan``, configured for the sandbox's tenant."""
    return clean_env(
        ANAPLAN_API_URL=f"{anaplan}/2/0",
        ANAPLAN_AUTH_URL=anaplan,
        ANAPLAN_USERNAME=seed.ADMIN_USER,
        ANAPLAN_PASSWORD=password,
        ALM_BOT_CONFIG=str(sandbox_config(home)),
        ALM_BOT_DATABASE_URL=f"sqlite:///{home / 'alm-bot.db'}",
        **more,
    )


async def exercise(fmt: str, home: Path, fake: FakeSlack, anaplan: str) -> Spawned:
    """Run serve with every secret configured; log in to Anaplan, take a Slack command and MCP calls."""
    env = anaplan_env(
        anaplan,
        ANAPLAN_PASSWORD,
        home,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        ALM_BOT_MCP_TOKENS=f"{MCP_TOKEN}=U0REQUESTER:Ada Lovelace",
        ALM_BOT_LOG_FORMAT=fmt,
    )
    async with spawn_alm_bot("serve", "--port", "0", env=env, cwd=home) as serve:
        base = await base_url_of(serve)
        await healthy(base)
        body = slash_command_body("sync dev prod", response_url=fake.response_url(f"{fmt}-sync"))
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            sent = await http.post(f"{base}/slack/events", content=body, headers=sign(body, SIGNING_SECRET))
            assert sent.status_code == 200, sent.text
        await fake.wait_for("response_url", where=lambda c: c.path == f"/response/{fmt}-sync", timeout=WAIT)
        async with mcp_client(f"{base}/mcp", MCP_TOKEN) as client:
            await ok(client, "alm_list_models")
            await ok(client, "alm_list_requests")
        assert await serve.stop() == 0, serve
    return serve


@pytest.fixture(scope="module")
async def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Spawned]:
    """serve's output in each log format, after the same interactions (both run at once)."""
    runs: dict[str, Spawned] = {}
    async with FakeSlack(bot_token=BOT_TOKEN) as fake, anaplan_sandbox(ANAPLAN_PASSWORD) as anaplan:

        async def run(fmt: str) -> None:
            runs[fmt] = await exercise(fmt, tmp_path_factory.mktemp(f"logs-{fmt}"), fake, anaplan)

        async with anyio.create_task_group() as tg:
            tg.start_soon(run, "json")
            tg.start_soon(run, "text")
    return runs


async def test_no_configured_secret_appears_in_the_output_of_either_log_format(
    logs: dict[str, Spawned],
) -> None:
    for fmt, serve in logs.items():
        output = serve.stdout + serve.stderr
        leaked = [name for name, secret in SECRETS.items() if secret in output]
        assert not leaked, f"{fmt} output shows {leaked}"


async def test_json_logs_are_one_object_a_line_and_carry_slack_and_mcp_request_ids(
    logs: dict[str, Spawned],
) -> None:
    entries = [json.loads(line) for line in logs["json"].stderr.splitlines() if line.strip()]

    assert entries
    assert all({"time", "level", "logger", "request_id", "message"} <= entry.keys() for entry in entries)
    ids = {entry["request_id"] for entry in entries}
    assert any(re.fullmatch(r"slack-[0-9a-f]{10}", i) for i in ids), ids
    assert any(re.fullmatch(r"mcp-[0-9a-f]{10}", i) for i in ids), ids


async def test_text_logs_carry_slack_and_mcp_request_ids(logs: dict[str, Spawned]) -> None:
    text = logs["text"].stderr

    assert re.search(r" \[slack-[0-9a-f]{10}\] POST /slack/events 200 ", text), text
    assert re.search(r" \[mcp-[0-9a-f]{10}\] POST /mcp 200 ", text), text


async def test_health_is_503_and_names_anaplan_when_its_login_fails(tmp_path: Path) -> None:
    async with anaplan_sandbox(ANAPLAN_PASSWORD) as anaplan:
        env = anaplan_env(anaplan, "a-wrong-password-1c7e", tmp_path)
        async with spawn_alm_bot("serve", "--port", "0", env=env, cwd=tmp_path) as serve:
            status, body = await health(await base_url_of(serve))

    assert status == 503
    assert body["status"] == "unhealthy"
    assert body["anaplan"].startswith("error:"), body
    assert body["database"] == "ok"
    assert "a-wrong-password-1c7e" not in json.dumps(body) + serve.stdout + serve.stderr
