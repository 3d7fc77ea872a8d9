"""MCP over streamable HTTP: uvicorn on an ephemeral 127.0.0.1 port, bearer tokens, read-only mode."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from alm_bot.config import Settings, load_settings
from alm_bot.errors import ConfigError
from alm_bot.mcp.auth import check_http_exposure
from alm_bot.mcp.http import mcp_http_app
from alm_bot.sandbox import Sandbox
from alm_bot.services import Services, open_services, sandbox_defaults
from tests.live import mcp_client as connect
from tests.live import serving
from tests.mcp.calls import ok
from tests.mcp.catalogue import ALL_TOOLS, CHANGING_TOOLS
from tests.mcp.sandboxed import sandbox_settings, sync_posts

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ADA_TOKEN = "ada-token-8d1f0c-0000000000000000000"
BOB_TOKEN = "bob-token-42e9b7-1111111111111111111"
TOKENS = f"{ADA_TOKEN}=U0ADA:Ada Lovelace,{BOB_TOKEN}=U0BOB:Bob"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return sandbox_settings(tmp_path, ALM_BOT_MCP_TOKENS=TOKENS)


@pytest.fixture
async def url(services: Services, settings: Settings) -> AsyncIterator[str]:
    async with serving(mcp_http_app(services, settings)) as base:
        yield f"{base}/mcp"


async def initialize(url: str, **headers: str) -> httpx2.Response:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}
    async with httpx2.AsyncClient() as http:
        return await http.post(url, json=body, headers=accept | headers)


async def test_a_request_without_a_token_is_refused_with_a_bearer_challenge(url: str) -> None:
    response = await initialize(url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer ")
    assert response.json()["error"] == "invalid_token"


async def test_a_request_with_a_wrong_token_is_refused(url: str) -> None:
    response = await initialize(url, Authorization="Bearer not-a-known-token")
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["error"] == "invalid_token"


async def test_a_prefix_of_a_known_token_is_refused(url: str) -> None:
    response = await initialize(url, Authorization=f"Bearer {ADA_TOKEN[:-1]}")
    assert response.status_code == 401


async def test_a_request_with_another_scheme_is_refused(url: str) -> None:
    response = await initialize(url, Authorization=f"Basic {ADA_TOKEN}")
    assert response.status_code == 401


async def test_a_known_token_is_let_in(url: str) -> None:
    response = await initialize(url, Authorization=f"Bearer {ADA_TOKEN}")
    assert response.status_code == 200


async def test_a_foreign_host_header_is_refused_even_with_a_token(url: str) -> None:
    response = await initialize(url, Authorization=f"Bearer {ADA_TOKEN}", Host="evil.example:80")
    assert response.status_code in (403, 421)


async def test_tools_are_listed_and_called_with_a_token(url: str) -> None:
    async with connect(url, ADA_TOKEN) as client:
        tools = {t.name for t in (await client.list_tools()).tools}
        models = await ok(client, "alm_list_models")
    assert tools == ALL_TOOLS
    assert "FP&A PROD" in [m["name"] for m in models["models"]]


async def test_each_token_acts_as_its_own_person(url: str, services: Services, sandbox: Sandbox) -> None:
    arguments = {"source_model": "dev", "target_model": "prod"}
    async with connect(url, ADA_TOKEN) as ada, connect(url, BOB_TOKEN) as bob:
        by_ada = await ok(ada, "alm_sync_models", arguments)
        by_bob = await ok(bob, "alm_change_model_status", {"model": "prod", "status": "offline"})
        by_ada_again = await ok(ada, "alm_list_requests", {"mine": True})
    requesters: dict[str, Any] = {}
    for outcome in (by_ada, by_bob):
        request = await services.ops.get_request(outcome["request_id"])
        requesters[request.operation] = (request.requester_id, request.requester_name, request.origin)
    assert requesters == {"sync": ("U0ADA", "Ada Lovelace", "mcp"), "change_status": ("U0BOB", "Bob", "mcp")}
    assert [r["id"] for r in by_ada_again["requests"]] == [by_ada["request_id"]]
    assert by_ada["status"] == "awaiting_approval"
    assert sync_posts(sandbox) == []


async def test_progress_reaches_an_http_client(url: str) -> None:
    seen: list[str | None] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(message)

    arguments = {"source_model": "dev", "target_model": "prod", "wait_for_completion": True}
    async with connect(url, ADA_TOKEN) as client:
        result = await client.call_tool(
            "alm_create_comparison_summary", arguments, progress_callback=on_progress
        )
    assert result.structured_content is not None
    assert result.structured_content["status"] == "succeeded"
    assert seen
    assert "COMPLETE" in (seen[-1] or "")


async def test_errors_reach_an_http_client_as_tool_errors(url: str) -> None:
    async with connect(url, ADA_TOKEN) as client:
        result = await client.call_tool("alm_get_latest_revision", {"model": "prd"})
    assert result.is_error
    assert "did you mean prod?" in result.content[0].text  # type: ignore[union-attr]


async def test_read_only_http_offers_no_changing_tool(services: Services, settings: Settings) -> None:
    async with (
        serving(mcp_http_app(services, settings, read_only=True)) as base,
        connect(f"{base}/mcp", ADA_TOKEN) as client,
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
        result = await client.call_tool("alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    assert tools == ALL_TOOLS - CHANGING_TOOLS
    assert result.is_error


async def test_the_settings_read_only_key_applies_over_http(tmp_path: Path, sandbox: Sandbox) -> None:
    defaults = sandbox_defaults() | {"mcp": {"read_only": True}}
    env = {"ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'ro.db'}", "ALM_BOT_MCP_TOKENS": TOKENS}
    settings = load_settings(env=env, defaults=defaults)
    async with (
        open_services(settings, sandbox=sandbox) as services,
        serving(mcp_http_app(services.ops, settings)) as base,
        connect(f"{base}/mcp", ADA_TOKEN) as client,
    ):
        tools = {t.name for t in (await client.list_tools()).tools}
    assert tools == ALL_TOOLS - CHANGING_TOOLS


async def test_without_tokens_loopback_requests_act_as_the_configured_actor(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    settings = sandbox_settings(tmp_path)
    async with (
        open_services(settings, sandbox=sandbox) as services,
        serving(mcp_http_app(services, settings)) as base,
        connect(f"{base}/mcp", None) as client,
    ):
        outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        request = await services.ops.get_request(outcome["request_id"])
    assert (request.requester_id, request.origin) == ("U0ADA", "mcp")


def test_http_without_tokens_is_refused_on_a_non_loopback_bind(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    with pytest.raises(ConfigError) as refused:
        check_http_exposure("0.0.0.0", settings)  # noqa: S104 — the bind being refused
    assert "ALM_BOT_MCP_TOKENS" in str(refused.value)


def test_the_app_cannot_be_built_for_an_exposed_bind_without_tokens(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    with pytest.raises(ConfigError):
        mcp_http_app(object(), settings, host="10.1.2.3")  # type: ignore[arg-type]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_http_without_tokens_is_allowed_on_loopback_with_a_notice(tmp_path: Path, host: str) -> None:
    notice = check_http_exposure(host, sandbox_settings(tmp_path))
    assert "without auth" in notice
    assert "Ada Lovelace (via assistant)" in notice
    assert "\n" not in notice


def test_http_with_tokens_may_bind_anywhere(settings: Settings) -> None:
    notice = check_http_exposure("0.0.0.0", settings)  # noqa: S104 — allowed with tokens
    assert notice.startswith("MCP over HTTP on 0.0.0.0: 2 bearer token(s) configured")
    assert ADA_TOKEN not in notice


@pytest.fixture
async def open_url(tmp_path: Path, sandbox: Sandbox) -> AsyncIterator[str]:
    """A loopback /mcp without any auth."""
    settings = sandbox_settings(tmp_path)
    async with (
        open_services(settings, sandbox=sandbox) as services,
        serving(mcp_http_app(services, settings)) as base,
    ):
        yield f"{base}/mcp"


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("Forwarded", "for=203.0.113.7"),
        ("X-Forwarded-For", "203.0.113.7"),
        ("X-Forwarded-Host", "alm-bot.example.com"),
        ("X-Forwarded-Proto", "https"),
        ("X-Real-IP", "203.0.113.7"),
        ("Via", "1.1 proxy"),
    ],
)
async def test_without_auth_a_request_through_a_proxy_is_refused(
    open_url: str, header: str, value: str
) -> None:
    response = await initialize(open_url, **{header: value})
    assert response.status_code == 403
    assert header.lower() in response.json()["error_description"]


async def test_without_auth_a_direct_loopback_request_is_served(open_url: str) -> None:
    response = await initialize(open_url)
    assert response.status_code == 200
