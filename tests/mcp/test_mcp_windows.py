"""Change windows over MCP: a change asked for while its window is closed is scheduled, the windows
tool says why and from when, and only an override approver's assistant may run it now."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from mcp import Client

from alm_bot.actor import Actor
from alm_bot.config import Settings, load_settings
from alm_bot.mcp import build_mcp_server
from alm_bot.sandbox import Sandbox
from alm_bot.services import Services, sandbox_defaults
from tests.mcp.calls import ok, refused
from tests.mcp.sandboxed import ADA, QUICK_WATCHER, sync_posts

pytestmark = pytest.mark.anyio

OPENS = (datetime.now(UTC) + timedelta(hours=3)).replace(second=0, microsecond=0)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """test may change only in a daily allow window opening in three hours; Ada may override."""
    window = {"models": ["test"], "kind": "allow", "cron": f"{OPENS:%M %H} * * *", "duration": "1h"}
    defaults = sandbox_defaults() | {"watcher": QUICK_WATCHER, "windows": [window]}
    defaults["approval"] = defaults["approval"] | {"override_approvers": ["U0ADA"]}
    env = {"ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}", "ALM_BOT_MCP_ACTOR": ADA}
    return load_settings(env=env, defaults=defaults)


@pytest.fixture
async def someone_else(services: Services) -> AsyncIterator[Client]:
    async with Client(build_mcp_server(services.ops, default_actor=Actor("U0BOB", "Bob", "mcp"))) as client:
        yield client


@pytest.mark.usefixtures("unprotect_test")
async def test_a_change_outside_its_window_is_scheduled_and_shown_with_runs_at(
    client: Client, sandbox: Sandbox
) -> None:
    outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "test"})
    assert outcome["status"] == "scheduled"
    assert "change window is closed" in outcome["message"]
    shown = await ok(client, "alm_get_request", {"request_id": outcome["request_id"]})
    assert shown["state"] == "scheduled"
    assert datetime.fromisoformat(shown["runs_at"]) == OPENS
    assert "outside every allow window" in shown["window"]["reason"]
    assert sync_posts(sandbox) == []

    windows = await ok(client, "alm_get_change_windows", {"model": "test"})
    assert windows["may_change_now"] is False
    assert datetime.fromisoformat(windows["runs_at"]) == OPENS
    assert [(w["kind"], w["models"]) for w in windows["windows"]] == [("allow", ["test"])]
    listed = await ok(client, "alm_list_requests", {"states": ["scheduled"]})
    assert [r["id"] for r in listed["requests"]] == [outcome["request_id"]]


@pytest.mark.usefixtures("unprotect_test")
async def test_only_an_override_approver_may_run_it_now(
    client: Client, someone_else: Client, sandbox: Sandbox
) -> None:
    rid = (await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "test"}))["request_id"]
    message = await refused(someone_else, "alm_override_change_window", {"request_id": rid, "reason": "now"})
    assert "override approvers" in message
    ran = await ok(client, "alm_override_change_window", {"request_id": rid, "reason": "urgent fix"})
    assert ran["state"] in ("executing", "succeeded")
    assert ran["window"]["override_reason"] == "urgent fix"
    assert ran["window"]["overridden_by"]["id"] == "U0ADA"
    assert len(sync_posts(sandbox)) == 1
