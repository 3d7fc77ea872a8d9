"""alm-bot's benchmarks: every scenario measured against its baseline in the same run.

    uv sync --all-groups                       # anaplan-sdk and pyinstrument (the bench group)
    uv run python tools/bench.py [--quick] [--json FILE] [--only NAME ...]

Scenarios (each in its own module; the docstrings say exactly what is measured and how):

1. ``client``  — client overhead vs a raw httpx2 GET; 200 concurrent calls vs anaplan-sdk and raw
   httpx2 (`tools.bench_client`);
2. ``serve``   — an idle ``alm-bot serve --sandbox``'s memory, ``/alm`` acknowledgement times and an
   MCP call over streamable HTTP (`tools.bench_serve`);
3. ``notify``  — from a task finishing in Anaplan to the notice in Slack, for one and for 200 tasks,
   and the peak Anaplan request rate against the watcher's budget (`tools.bench_notify`);
4. ``mcp``     — ``alm-bot mcp --sandbox`` cold start vs a one-tool MCP server (`tools.bench_mcp`);
5. ``radar``   — the data-loss verdict of a 10,000-row comparison report vs splitting its lines
   (`tools.bench_radar`);
6. ``pacing``  — 20 syncs of 5–60 s followed without invented progress: notice latency and Anaplan
   requests per sync, learnt from each target's past tasks vs a fixed 1 s and 5 s poll
   (`tools.bench_pacing`, at a 0.1 time scale);
7. ``release`` — a 10-target release in 2 waves from approval to the final DM vs 10 single syncs
   approved one by one: time and Anaplan requests (`tools.bench_release`).

``--quick`` runs everything in about two minutes (fewer repetitions, shorter tasks); the full run
takes longer and gives steadier numbers. Goals are checked in the table; the exit code is 0 either
way — a benchmark reports, it does not gate. Everything runs on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import anyio

if __package__ in (None, ""):  # run as a script: make `tools` and `alm_bot` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tools.bench_report import Row, render_table

Scenario = Callable[[Path], Awaitable[tuple[list[Row], dict[str, float]]]]


def scenarios(quick: bool) -> dict[str, Scenario]:
    from tools.bench_client import run_client_benchmarks
    from tools.bench_mcp import run_mcp_benchmarks
    from tools.bench_notify import run_notify_benchmarks
    from tools.bench_pacing import run_pacing_benchmarks
    from tools.bench_radar import run_radar_benchmarks
    from tools.bench_release import run_release_benchmarks
    from tools.bench_serve import run_serve_benchmarks

    return {
        "client": lambda d: run_client_benchmarks(d, quick=quick),
        "serve": lambda d: run_serve_benchmarks(d, quick=quick),
        "notify": lambda d: run_notify_benchmarks(d, quick=quick),
        "mcp": lambda d: run_mcp_benchmarks(d, quick=quick),
        "radar": lambda d: run_radar_benchmarks(d, quick=quick),
        "pacing": lambda d: run_pacing_benchmarks(d, quick=quick),
        "release": lambda d: run_release_benchmarks(d, quick=quick),
    }


def machine() -> str:
    import os

    system = f"{platform.system()} {platform.machine()}"
    return f"{system}, {os.cpu_count()} cores, Python {platform.python_version()}"


async def run(quick: bool, only: list[str]) -> tuple[list[Row], dict[str, float | str]]:
    rows: list[Row] = []
    metrics: dict[str, float | str] = {}
    with tempfile.TemporaryDirectory(prefix="alm-bot-bench-") as tmp:
        for name, scenario in scenarios(quick).items():
            if only and name not in only:
                continue
            started = time.perf_counter()
            print(f"… {name}", file=sys.stderr, flush=True)
            found, values = await scenario(Path(tmp) / name)
            print(f"  {name}: {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
            rows += found
            metrics.update(values)
    return rows, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions: about two minutes")
    parser.add_argument("--json", type=Path, help="also write the measures as one JSON object here")
    parser.add_argument("--only", action="append", default=[], help="run only this scenario (repeatable)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    rows, metrics = anyio.run(run, args.quick, args.only)
    elapsed = time.perf_counter() - started
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    kind = "quick" if args.quick else "full"
    print(f"\nalm-bot benchmarks — {stamp} — {machine()} — {kind} run, {elapsed:.0f} s\n")
    print(render_table(rows))
    unmet = [f"{r.scenario}: {r.measure}" for r in rows if r.met is False]
    print(f"\ngoals not met: {', '.join(unmet)}" if unmet else "\nall goals met")
    if args.json:
        document = {**metrics, "date": stamp, "machine": machine(), "quick": args.quick, "seconds": elapsed}
        args.json.write_text(json.dumps(document, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
