"""`alm-bot mcp` starts light: no Slack stack ever, and the store only once a tool needs it.

Each check runs in a fresh interpreter, because the test process itself has imported everything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import anyio
import pytest

from tests.processes import clean_env, run_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PROBE = """
import json, sys
import anyio
from mcp import Client
from alm_bot.config import load_settings
from alm_bot.mcp.stdio import LazyServices
from alm_bot.mcp.server import build_mcp_server

SLACK = {"slack_bolt", "slack_sdk", "aiohttp"}
PROD_MODEL_ID = "0085E9ACE5F908A0582AA6F438CE70FC"  # the sandbox's FP&A PROD (no aliases without defaults)

def loaded(names):
    return sorted(m for m in sys.modules if m.split(".")[0] in names or m in names)

async def main():
    settings = load_settings(env={"ALM_BOT_DATABASE_URL": sys.argv[1], "ALM_BOT_MCP_ACTOR": "U0PROBE"})
    services = LazyServices(settings, sandbox=True)
    seen = {}
    async with services.running(), Client(build_mcp_server(services.ops)) as client:
        await client.list_tools()
        seen["store_before_a_call"] = loaded({"alm_bot.store"})
        result = await client.call_tool("alm_get_latest_revision", {"model": PROD_MODEL_ID})
        seen["call_failed"] = result.is_error
        seen["store_after_a_call"] = loaded({"alm_bot.store"})
    seen["slack"] = loaded(SLACK)
    print(json.dumps(seen))

anyio.run(main)
"""


async def test_the_mcp_server_opens_the_store_lazily_and_never_imports_slack(tmp_path: Path) -> None:
    with anyio.fail_after(60):
        finished = await anyio.run_process(
            [sys.executable, "-c", PROBE, f"sqlite:///{tmp_path / 'probe.db'}"], cwd=tmp_path, check=False
        )
    assert finished.returncode == 0, finished.stderr.decode()
    seen = json.loads(finished.stdout.decode().strip().splitlines()[-1])
    assert seen == {
        "store_before_a_call": [],
        "call_failed": False,
        "store_after_a_call": ["alm_bot.store"],
        "slack": [],
    }


@pytest.mark.parametrize("command", [["serve", "--sandbox", "--port", "0"], ["mcp", "--sandbox"]])
async def test_a_one_character_token_stops_start_up_with_one_line_naming_its_entry(
    tmp_path: Path, command: list[str]
) -> None:
    tokens = f"{'k' * 40}=U0ADA:Ada,a=U0BOB:Bob"
    env = clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}", ALM_BOT_MCP_TOKENS=tokens)
    refused = await run_alm_bot(*command, env=env, cwd=tmp_path)

    assert refused.code == 1, refused
    problem = [line for line in refused.stderr.splitlines() if "ALM_BOT_MCP_TOKENS" in line]
    assert len(problem) == 1, refused.stderr
    assert "entry 2: the token is shorter than 32 characters" in problem[0]
    assert "a=U0BOB" not in refused.stderr
    assert "k" * 40 not in refused.stderr
    assert "Traceback" not in refused.stderr
    assert "alm-bot is running" not in refused.stdout
