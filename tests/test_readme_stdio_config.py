"""The README's stdio client configuration works when pasted: ``alm-bot mcp --client-config`` prints it.

The printed JSON is used as an MCP client would use it — its command, arguments and environment —
to start the server and list the tools. Only the database is redirected to the test's directory
(the checkout is the working directory of ``uv run --directory``).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.mcp.catalogue import ALL_TOOLS
from tests.processes import clean_env, run_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(shutil.which("uv") is None, reason="the printed configuration starts alm-bot with uv")
async def test_the_printed_stdio_configuration_starts_a_server_that_lists_every_tool(tmp_path: Path) -> None:
    printed = await run_alm_bot(
        "mcp", "--sandbox", "--client-config", env=clean_env(ALM_BOT_MCP_ACTOR="U0ADA:Ada"), cwd=ROOT
    )
    assert printed.code == 0, printed
    server = json.loads(printed.stdout)["mcpServers"]["alm-bot"]
    assert server["args"][:3] == ["run", "--directory", str(ROOT)]
    assert server["env"] == {"ALM_BOT_MCP_ACTOR": "U0ADA:Ada"}

    env = clean_env(**server["env"], ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}")
    env["UV_OFFLINE"] = "1"
    parameters = StdioServerParameters(command=server["command"], args=server["args"], env=env)
    with (tmp_path / "stderr.log").open("w+", encoding="utf-8") as errlog:
        with anyio.fail_after(120):
            async with Client(stdio_client(parameters, errlog=errlog)) as client:
                tools = {tool.name for tool in (await client.list_tools()).tools}

    assert tools == ALL_TOOLS
    assert os.path.isabs(server["args"][2])
