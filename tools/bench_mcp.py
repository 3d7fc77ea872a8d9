"""MCP cold start: ``alm-bot mcp --sandbox`` spawned until ``tools/list`` answers, vs the smallest server.

The baseline is a one-tool MCP server (`MCPServer` from the same SDK, one ``add`` tool, run over
stdio), written to a temporary file — what any Python MCP server costs at least: the interpreter
and the SDK. Both are started by the SDK's own client (``mcp.Client(StdioServerParameters(…))``),
the same way an assistant starts them, timed from spawn to the ``tools/list`` answer, alternately,
several times; the value is the median of each pair's ratio. Each alm-bot start gets a fresh empty
working directory, so nothing is cached between runs but the operating system's file cache (warmed
for both by one untimed start each).

It also reports the size of alm-bot's ``tools/list`` answer with every tool (the JSON the SDK
client received, as bytes): each assistant that connects carries it in its context.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from tools.bench_report import Row, at_most, ms

__all__ = ["run_mcp_benchmarks"]

ONE_TOOL_SERVER = '''"""The smallest useful MCP server: one tool, over stdio."""
from mcp.server.mcpserver import MCPServer

server = MCPServer("one-tool")


@server.tool()
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


if __name__ == "__main__":
    server.run("stdio")
'''


def _env(workdir: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        "ALM_BOT_DATABASE_URL": f"sqlite:///{workdir / 'alm-bot.db'}",
        "ALM_BOT_MCP_ACTOR": "U0BENCH:Bench",
    }


TOOLS_LIST_BUDGET_KB = 35  # 23 tools since releases and change windows (was 30 KB for 19)
"""The same budget (30,000 bytes) tests/mcp/test_mcp_catalogue.py holds the listing to."""


async def _time_to_tools(parameters: StdioServerParameters, expected: int) -> tuple[float, int]:
    """Seconds from spawn to the tools/list answer, and that answer's size in bytes."""
    started = time.perf_counter()
    async with Client(parameters) as client:
        listed = await client.list_tools()
        elapsed = time.perf_counter() - started
    assert len(listed.tools) >= expected, [t.name for t in listed.tools]
    return elapsed, len(listed.model_dump_json(by_alias=True, exclude_none=True).encode())


async def run_mcp_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    script = workdir / "one_tool_server.py"
    await anyio.Path(script).write_text(ONE_TOOL_SERVER)
    baseline = StdioServerParameters(
        command=sys.executable, args=[str(script)], env=_env(workdir), cwd=str(workdir)
    )
    ours_times: list[float] = []
    base_times: list[float] = []
    runs = 7 if quick else 15
    for run in range(runs + 1):
        home = workdir / f"run-{run}"
        await anyio.Path(home).mkdir()
        ours = StdioServerParameters(
            command=sys.executable,
            args=["-m", "alm_bot.cli", "mcp", "--sandbox"],
            env=_env(home),
            cwd=str(home),
        )
        ours_time, listing = await _time_to_tools(ours, expected=19)
        base_time, _ = await _time_to_tools(baseline, expected=1)
        if run:  # the first pair warms the file cache
            ours_times.append(ours_time)
            base_times.append(base_time)
    # The median of each pair's ratio: a pair runs back to back, so load from elsewhere on the
    # machine (it comes and goes) weighs on both of its starts alike.
    ratio = statistics.median(o / b for o, b in zip(ours_times, base_times, strict=True))
    ours_median, base_median = statistics.median(ours_times), statistics.median(base_times)
    rows = [
        Row(
            "7 MCP cold start",
            f"alm-bot mcp --sandbox → tools/list, median of {runs} pairs (baseline: one-tool server)",
            ms(ours_median),
            ms(base_median),
            ratio,
            "×",
            at_most(1.3),
        ),
        Row(
            "8 MCP tools/list",
            "bytes of the tools/list answer with all 23 tools (what each assistant's context carries)",
            f"{listing / 1000:.1f} KB",
            "",
            listing / 1000,
            " KB",
            at_most(TOOLS_LIST_BUDGET_KB),
        ),
    ]
    metrics = {"mcp_cold_start_ratio": ratio, "mcp_cold_start_ms": ours_median * 1000}
    return rows, metrics | {"mcp_tools_list_bytes": float(listing)}
