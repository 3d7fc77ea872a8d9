"""Benchmarks of the Anaplan client against ``alm-bot sandbox`` (a subprocess) over loopback.

- **overhead**: ``AlmClient.get_revisions`` against a raw ``httpx2`` GET of the very URL it sends
  (``…/alm/revisions?limit=5000&offset=0``), with the same ``Authorization`` header, the body decoded
  as JSON — calls interleaved one by one, so drift in the machine hits both equally.
- **concurrency**: 200 concurrent ``get_sync_task`` calls through one ``AnaplanClient``, through one
  anaplan-sdk ``AsyncClient`` and through one raw ``httpx2.AsyncClient``; rounds interleaved,
  throughput = calls / wall time of the round, median over rounds. Measured twice:

  * with 20 ms of latency per call (the sandbox's delay fault holds each answer back), because
    Anaplan answers from across a network — this is where serialising calls costs, so the goal
    against the SDK is judged here;
  * at 0 ms (loopback as it is), where the server's CPU, not the client, sets the pace and any
    client overhead shows most — the goal against raw httpx2 is judged here.

The sandbox's rate limit is switched off (``POST /_sandbox/rate-limit``): we measure the client, not
the emulated tenant's budget.

anaplan-sdk hard-codes ``https://api.anaplan.com``; a small transport rewrites its requests to the
sandbox's loopback address. Every contender's pool has httpx's default limits (100 connections, 20
kept alive), with idle connections dropped after 4 s as ours are: the server closes them after 5 s,
and a contender idle while the others run its rounds must not meet a connection the server is
closing. The SDK keeps its default retries. It is given a token *and* the login, as a long-running
service would configure it (so it can log in again); that makes it use its re-authenticating
``httpx2.Auth``, which holds one lock across every request. The token-only variant (which cannot
log in again) is measured too, to show where the gap comes from.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2

from alm_bot.anaplan import AnaplanClient, TokenAuth
from alm_bot.sandbox import seed
from tools.bench_procs import spawn_sandbox
from tools.bench_report import Row, at_least, at_most, ms, summary

__all__ = ["run_client_benchmarks"]

CONCURRENT_CALLS = 200
LIMITS = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)
WAN_LATENCY_MS = 20
"""Anaplan answers from across a network: every sync-task GET is held back this long."""


class LoopbackTransport(httpx2.AsyncBaseTransport):
    """Sends every request to ``base`` (scheme, host, port), keeping path and query."""

    def __init__(self, base: str) -> None:
        url = httpx2.URL(base)
        self._scheme, self._host, self._port = url.scheme, url.host, url.port
        self._inner = httpx2.AsyncHTTPTransport(limits=LIMITS)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        request.url = request.url.copy_with(scheme=self._scheme, host=self._host, port=self._port)
        request.headers["Host"] = f"{self._host}:{self._port}"
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def _login(http: httpx2.AsyncClient, base: str) -> str:
    reply = await http.post(f"{base}/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))
    reply.raise_for_status()
    token: str = reply.json()["tokenInfo"]["tokenValue"]
    return token


async def _overhead(base: str, token: str, calls: int) -> list[Row]:
    header = {"Authorization": f"AnaplanAuthToken {token}", "Accept": "application/json"}
    url = f"{base}/2/0/models/{seed.DEV_MODEL_ID}/alm/revisions?limit=5000&offset=0"
    ours_times: list[float] = []
    raw_times: list[float] = []
    async with (
        AnaplanClient(auth=TokenAuth(token), api_url=f"{base}/2/0", auth_url=base) as client,
        httpx2.AsyncClient(limits=LIMITS) as raw,
    ):
        alm = client.alm(seed.DEV_MODEL_ID)
        assert len(await alm.get_revisions()) == len((await raw.get(url, headers=header)).json()["revisions"])
        with _gc_off():
            for number in range(calls):
                if number % 100 == 0:  # collect between blocks of calls, never inside a timed call
                    gc.collect()
                started = time.perf_counter()
                await alm.get_revisions()
                ours_times.append(time.perf_counter() - started)
                started = time.perf_counter()
                response = await raw.get(url, headers=header)
                response.raise_for_status()
                response.json()
                raw_times.append(time.perf_counter() - started)
    ours, base_line = summary(ours_times), summary(raw_times)
    ratio = ours["p50"] / base_line["p50"]
    return [
        Row(
            "1 client overhead",
            f"get_revisions vs raw GET, median of {calls} each",
            ms(ours["p50"]),
            ms(base_line["p50"]),
            ratio,
            "×",
            at_most(1.15),
        ),
        Row(
            "1 client overhead",
            "p95",
            ms(ours["p95"]),
            ms(base_line["p95"]),
            ours["p95"] / base_line["p95"],
            "×",
        ),
    ]


async def _round(call: Callable[[], Coroutine[Any, Any, None]]) -> float:
    """Calls per second of `CONCURRENT_CALLS` concurrent calls."""
    with _gc_off():
        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(CONCURRENT_CALLS):
                tg.start_soon(call)
        return CONCURRENT_CALLS / (time.perf_counter() - started)


@contextmanager
def _gc_off() -> Iterator[None]:
    """No garbage collection while timing, as timeit does: a full pass over this process's heap
    (anaplan-sdk, pydantic, alm-bot and the rest) takes ~100 ms and would land on whichever
    contender happened to be running. (``alm-bot serve`` freezes its start-up heap, so in
    production such passes are cheap.)"""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def _sdk(base: str, token: str, *, relogin: bool) -> Any:
    import anaplan_sdk  # the bench dependency group: uv sync --all-groups

    login = {"user_email": seed.ADMIN_USER, "password": seed.PASSWORD} if relogin else {}
    return anaplan_sdk.AsyncClient(
        workspace_id=seed.WORKSPACE_ID,
        model_id=seed.TEST_MODEL_ID,
        token=token,
        transport=LoopbackTransport(base),
        **login,
    )


async def _concurrency(base: str, token: str, rounds: int) -> dict[str, float]:
    """Median calls/s of each contender over ``rounds`` interleaved rounds."""
    header = {"Authorization": f"AnaplanAuthToken {token}", "Accept": "application/json"}
    async with (
        AnaplanClient(auth=TokenAuth(token), api_url=f"{base}/2/0", auth_url=base) as client,
        httpx2.AsyncClient(limits=LIMITS) as raw,
    ):
        alm = client.alm(seed.TEST_MODEL_ID)
        task_id = (await alm.get_sync_tasks())[0].task_id
        url = f"{base}/2/0/models/{seed.TEST_MODEL_ID}/alm/syncTasks/{task_id}"
        sdk, sdk_static = _sdk(base, token, relogin=True), _sdk(base, token, relogin=False)

        async def ours() -> None:
            await alm.get_sync_task(task_id)

        async def raw_get() -> None:
            reply = await raw.get(url, headers=header)
            reply.raise_for_status()
            reply.json()

        async def with_sdk() -> None:
            await sdk.alm.get_sync_task(task_id)

        async def with_static_sdk() -> None:
            await sdk_static.alm.get_sync_task(task_id)

        contenders = {"ours": ours, "raw": raw_get, "sdk": with_sdk, "sdk_static": with_static_sdk}
        results: dict[str, list[float]] = {name: [] for name in contenders}
        try:
            for call in contenders.values():  # warm up: connections open, code paths imported
                await _round(call)
            for _ in range(rounds):
                for name, call in contenders.items():
                    results[name].append(await _round(call))
        finally:
            await sdk._http._client.aclose()  # the SDK has no close(); its httpx client does
            await sdk_static._http._client.aclose()
    return {name: statistics.median(values) for name, values in results.items()}


def _concurrency_rows(rate: dict[str, float], latency_ms: int, rounds: int, primary: str) -> list[Row]:
    """Rows for one latency; ``primary`` names the comparison whose goal is judged at this latency."""
    scenario = f"2 concurrency, {latency_ms} ms latency"
    label = f"{CONCURRENT_CALLS} concurrent get_sync_task, calls/s (median of {rounds})"
    return [
        Row(
            scenario,
            f"{label} vs anaplan-sdk",
            f"{rate['ours']:.0f}/s",
            f"{rate['sdk']:.0f}/s",
            rate["ours"] / rate["sdk"],
            "×",
            at_least(8) if primary == "sdk" else None,
        ),
        Row(
            scenario,
            "vs raw httpx2",
            f"{rate['ours']:.0f}/s",
            f"{rate['raw']:.0f}/s",
            rate["ours"] / rate["raw"],
            "×",
            at_least(0.8) if primary == "raw" else None,
        ),
        Row(
            scenario,
            "vs anaplan-sdk given a token only (cannot log in again)",
            f"{rate['ours']:.0f}/s",
            f"{rate['sdk_static']:.0f}/s",
            rate["ours"] / rate["sdk_static"],
            "×",
        ),
    ]


async def _with_latency(http: httpx2.AsyncClient, base: str, seconds: float) -> None:
    """Every sync-task GET answered ``seconds`` late (the sandbox's delay fault), or none."""
    (await http.delete(f"{base}/_sandbox/faults")).raise_for_status()
    if seconds:
        fault = {"method": "GET", "path": "/syncTasks/", "delay": seconds, "times": 10**9}
        (await http.post(f"{base}/_sandbox/faults", json=fault)).raise_for_status()


async def run_client_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    rounds = 3 if quick else 7
    async with spawn_sandbox(workdir / "sandbox") as sandbox, httpx2.AsyncClient(limits=LIMITS) as http:
        base = sandbox.url
        (await http.post(f"{base}/_sandbox/rate-limit", json={"per_second": None})).raise_for_status()
        token = await _login(http, base)
        overhead = await _overhead(base, token, 300 if quick else 1000)
        async with AnaplanClient(auth=TokenAuth(token), api_url=f"{base}/2/0", auth_url=base) as client:
            await client.alm(seed.TEST_MODEL_ID).sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, False)
        at_loopback = await _concurrency(base, token, rounds)
        await _with_latency(http, base, WAN_LATENCY_MS / 1000)
        at_wan = await _concurrency(base, token, rounds)
        await _with_latency(http, base, 0)
    rows = [
        *overhead,
        *_concurrency_rows(at_wan, WAN_LATENCY_MS, rounds, primary="sdk"),
        *_concurrency_rows(at_loopback, 0, rounds, primary="raw"),
    ]
    metrics = {
        "client_overhead_ratio": overhead[0].value,
        "concurrency_vs_sdk_ratio": at_wan["ours"] / at_wan["sdk"],
        "concurrency_vs_raw_ratio": at_loopback["ours"] / at_loopback["raw"],
        "concurrency_vs_sdk_ratio_0ms": at_loopback["ours"] / at_loopback["sdk"],
        "concurrency_vs_raw_ratio_wan": at_wan["ours"] / at_wan["raw"],
    }
    return rows, metrics
