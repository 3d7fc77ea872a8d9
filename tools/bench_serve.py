"""Benchmarks of a running ``alm-bot serve --sandbox`` subprocess: memory, Slack acks, MCP over HTTP.

One process serves all three, in this order:

- **idle RSS**: once ``/healthz`` says ok, the process's resident memory (psutil) is sampled every
  half second until it stops moving (four samples within 1 %, at most 15 s) — that is the figure;
- **Slack acknowledgements**: rounds of 50 concurrent signed ``/alm`` commands over HTTP, first all
  ``help`` (answered in the acknowledgement itself), then a mix of ``help``, ``models``,
  ``revisions dev``, ``requests`` and ``latest test`` (acknowledged at once, answered later through
  the ``response_url``). The time measured is request sent → acknowledgement received, what Slack's
  3-second limit applies to; every answer must also reach the fake Slack before the next round;
- **MCP over HTTP**: ``alm_get_revisions`` through one streamable-HTTP session, one call after
  another; the baseline is a plain GET of the same revisions from the sandbox that the same process
  serves under ``/sandbox`` (so the ratio is what MCP, the core and the client add).

Slack is a `tools.fake_slack.FakeSlack` in this process (``SLACK_API_URL`` points at it). The mounted
sandbox's rate limit is switched off after the memory is measured: the commands and tool calls
would otherwise meet the emulated tenant's 429s, which is not what is measured here.
"""

from __future__ import annotations

import gc
import time
from pathlib import Path

import anyio
import httpx2
import psutil
from mcp import Client

from alm_bot.sandbox import seed
from tools.bench_procs import spawn_serve, wait_healthy
from tools.bench_report import Row, at_most, below, ms, summary
from tools.fake_slack import FakeSlack, sign, slash_command_body

__all__ = ["run_serve_benchmarks"]

SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
CONCURRENT_COMMANDS = 50
MIX = ("help", "models", "revisions dev", "requests", "latest test")


async def _idle_rss(pid: int) -> float:
    """Resident memory in MB once it has settled."""
    process = psutil.Process(pid)
    samples: list[float] = []
    with anyio.move_on_after(15):
        while True:
            samples.append(process.memory_info().rss / 2**20)
            last = samples[-4:]
            if len(last) == 4 and max(last) <= min(last) * 1.01:
                break
            await anyio.sleep(0.5)
    return samples[-1]


class _Commands:
    """Sends rounds of signed slash commands and times their acknowledgements."""

    def __init__(self, http: httpx2.AsyncClient, fake: FakeSlack, url: str) -> None:
        self.http, self.fake, self.url = http, fake, url
        self.sent = 0

    async def one(self, text: str, acks: list[float]) -> bool:
        """Send ``/alm text``; True when its answer comes later through the response_url."""
        self.sent += 1
        body = slash_command_body(text, response_url=self.fake.response_url(f"c{self.sent}"))
        started = time.perf_counter()
        reply = await self.http.post(f"{self.url}/slack/events", content=body, headers=sign(body, SECRET))
        acks.append(time.perf_counter() - started)
        reply.raise_for_status()
        return not reply.content

    async def round(self, texts: list[str], acks: list[float]) -> None:
        answered_later = 0
        before = len(self.fake.of("response_url"))

        async def send(text: str) -> None:
            nonlocal answered_later
            answered_later += await self.one(text, acks)

        gc.disable()  # this process's own collections must not show up as alm-bot's latency (as timeit)
        try:
            async with anyio.create_task_group() as tg:
                for text in texts:
                    tg.start_soon(send, text)
        finally:
            gc.enable()
        await self.fake.wait_for("response_url", count=before + answered_later, timeout=60)


async def _slack(url: str, fake: FakeSlack, rounds: int) -> tuple[list[float], list[float]]:
    limits = httpx2.Limits(max_connections=CONCURRENT_COMMANDS, max_keepalive_connections=CONCURRENT_COMMANDS)
    help_acks: list[float] = []
    mixed_acks: list[float] = []
    async with httpx2.AsyncClient(limits=limits, timeout=30) as http:
        commands = _Commands(http, fake, url)
        await commands.round(["help", *MIX], [])  # warm up: first-use imports, connections
        for _ in range(rounds):
            await commands.round(["help"] * CONCURRENT_COMMANDS, help_acks)
            mixed = [MIX[i % len(MIX)] for i in range(CONCURRENT_COMMANDS)]
            await commands.round(mixed, mixed_acks)
    return help_acks, mixed_acks


async def _mcp_http(url: str, calls: int) -> tuple[list[float], list[float]]:
    """``alm_get_revisions`` over MCP, interleaved with the raw GET of the same revisions."""
    tool_times: list[float] = []
    raw_times: list[float] = []
    sandbox = f"{url}/sandbox"
    revisions = f"{sandbox}/2/0/models/{seed.DEV_MODEL_ID}/alm/revisions"
    async with httpx2.AsyncClient() as http, Client(f"{url}/mcp") as client:
        login = await http.post(f"{sandbox}/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))
        header = {"Authorization": f"AnaplanAuthToken {login.json()['tokenInfo']['tokenValue']}"}
        result = await client.call_tool("alm_get_revisions", {"model": "dev"})
        assert not result.is_error, result.content
        for _ in range(calls):
            started = time.perf_counter()
            result = await client.call_tool("alm_get_revisions", {"model": "dev"})
            tool_times.append(time.perf_counter() - started)
            assert not result.is_error, result.content
            started = time.perf_counter()
            (await http.get(revisions, headers=header)).raise_for_status()
            raw_times.append(time.perf_counter() - started)
    return tool_times, raw_times


async def run_serve_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
            "ALM_BOT_DATABASE_URL": f"sqlite:///{workdir / 'alm-bot.db'}",
        }
        async with spawn_serve(workdir, env, sandbox=True) as serve:
            await wait_healthy(serve.url)
            rss = await _idle_rss(serve.pid)
            async with httpx2.AsyncClient() as http:  # measure alm-bot, not the emulated tenant's limit
                off = await http.post(f"{serve.url}/sandbox/_sandbox/rate-limit", json={"per_second": None})
                off.raise_for_status()
            help_acks, mixed_acks = await _slack(serve.url, fake, 2 if quick else 6)
            tool_times, raw_times = await _mcp_http(serve.url, 50 if quick else 300)
    acks = summary(help_acks + mixed_acks)
    helps, mixed = summary(help_acks), summary(mixed_acks)
    tool, raw = summary(tool_times), summary(raw_times)
    rows = [
        Row(
            "3 serve idle",
            "resident memory after start-up settles",
            f"{rss:.0f} MB",
            "",
            rss,
            " MB",
            at_most(150),
        ),
        Row(
            "4 Slack acks",
            f"p99 of {int(acks['n'])} acks, 50 concurrent (help, and a mix)",
            ms(acks["p99"]),
            f"p50 {ms(acks['p50'])}",
            acks["p99"] * 1000,
            " ms",
            below(150),
        ),
        Row(
            "4 Slack acks",
            "slowest ack (Slack's limit: 3 s)",
            ms(acks["max"]),
            "",
            acks["max"],
            " s",
            below(3),
        ),
        Row("4 Slack acks", "help only: p50 / p99", f"{ms(helps['p50'])} / {ms(helps['p99'])}"),
        Row("4 Slack acks", "mix: p50 / p99", f"{ms(mixed['p50'])} / {ms(mixed['p99'])}"),
        Row(
            "5 MCP over HTTP",
            "alm_get_revisions p50 (baseline: raw GET of the same revisions)",
            ms(tool["p50"]),
            ms(raw["p50"]),
            tool["p50"] / raw["p50"],
            "×",
        ),
    ]
    metrics = {
        "idle_rss_mb": rss,
        "slack_ack_p50_ms": acks["p50"] * 1000,
        "slack_ack_p99_ms": acks["p99"] * 1000,
        "slack_ack_max_ms": acks["max"] * 1000,
        "mcp_http_call_p50_ms": tool["p50"] * 1000,
        "mcp_http_raw_get_p50_ms": raw["p50"] * 1000,
    }
    return rows, metrics
