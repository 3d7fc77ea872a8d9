"""Following syncs without invented progress: notice latency and Anaplan requests per sync.

The sandbox sends only what Anaplan documents for a running task (IN_PROGRESS, then COMPLETE; its
``progress`` is never read by the watcher), so the watcher cannot know from Anaplan when a sync will
end. It learns each target's typical duration from that target's past tasks in the store and polls
densely only around the expected end (`alm_bot.pacing`). This scenario measures that against a
fixed 1 s poll (anaplan-sdk's default) and a fixed 5 s poll, on the same 20 syncs, in the same run:

- **20 syncs** into the two sandbox models that take FP&A DEV's revisions (FP&A TEST and FP&A PROD):
  10 rounds, each a new DEV revision synced into both targets at once. Durations are seeded and
  lognormal: each target has a typical duration (median 15 s, σ = 0.8 in log space) and each sync
  lasts that × a factor with σ = 0.15, all clipped to 5–60 s. (The admin user of the sandbox may
  not read the third model with FP&A's history, Sales Ops Planning, so two targets it is.)
- **learnt**: the store already holds 5 earlier successful syncs per target (drawn the same way) —
  a bot that has been running for a while; **cold**: an empty store, so each target's first sync
  is followed by the backoff alone and the later ones by what the run taught;
- **fixed 1 s / fixed 5 s**: the same watcher with a constant interval that ignores history.

Latency = when the `Notifier` is handed the requester's ``task_finished`` notice − when the task
finished in the sandbox (same machine clock). Requests per sync = the GETs of that task the sandbox
logged (every one of them is the watcher's). The watcher runs as shipped (budget 10 requests/s),
with the sandbox's rate limit off. The request goal is checked against an *exact* 1 s poll of the
same syncs (1 + ⌈duration⌉ requests each: a poll at the start and one every second until the end),
because the measured fixed 1 s poll is slowed by the scaled overhead below and so sends fewer.

**Time scale**: everything runs at ``SCALE`` (0.1: a 30 s sync takes 3 s; every watcher interval
and the request budget are scaled alike), and latencies are reported in unscaled seconds. This keeps
the scenario to about three minutes; the machine's own delays per poll (store writes, the ASGI
round trip, delivery) are scaled up with it by 1/SCALE — about 0.5 s on the fixed 1 s poll, whose
ideal median is 0.5 s — so every latency here is pessimistic by about that much, and every fixed
poll's interval is stretched a little by it, which lowers its request count too.
"""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

import anyio

from alm_bot.backoff import Backoff
from alm_bot.config import load_settings
from alm_bot.notify import DeliveryReceipt, Notice
from alm_bot.pacing import Pacing
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.store import ApprovalRequest
from tools.bench_report import Row, at_most, percentile

__all__ = ["run_pacing_benchmarks"]

SCALE: Final = 0.1
SEED: Final = 11
SYNCS: Final = 20
HISTORY: Final = 5
TARGETS: Final = (seed.TEST_MODEL_ID, seed.PROD_MODEL_ID)
BUDGET_RPS: Final = 10.0
WATCHER: Final = {  # as shipped, in unscaled seconds
    "poll_min_seconds": 1.0,
    "poll_max_seconds": 15.0,
    "poll_near_end_seconds": 1.5,
    "anaplan_requests_per_second": BUDGET_RPS,
}


def _clipped(value: float) -> float:
    return min(60.0, max(5.0, value))


@dataclass(frozen=True)
class Plan:
    """Seeded durations (unscaled seconds): per target the earlier syncs, then the measured rounds."""

    history: dict[str, list[float]]
    rounds: list[dict[str, float]]

    @classmethod
    def draw(cls) -> Plan:
        rng = random.Random(SEED)
        typical = {t: _clipped(rng.lognormvariate(math.log(15.0), 0.8)) for t in TARGETS}

        def one(target: str) -> float:
            return _clipped(typical[target] * rng.lognormvariate(0.0, 0.15))

        history = {t: [one(t) for _ in range(HISTORY)] for t in TARGETS}
        rounds: list[dict[str, float]] = []
        left = SYNCS
        while left > 0:
            targets = TARGETS[: min(left, len(TARGETS))]
            rounds.append({t: one(t) for t in targets})
            left -= len(targets)
        return cls(history, rounds)

    @property
    def durations(self) -> list[float]:
        return [d for round_ in self.rounds for d in round_.values()]


@dataclass
class _Notices:
    """A `Notifier` that notes when each request's ``task_finished`` notice reached it."""

    at: dict[str, float] = field(default_factory=dict)
    arrived: anyio.Event = field(default_factory=anyio.Event)

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        if notice.kind == "task_finished" and notice.request is not None:
            self.at.setdefault(notice.request.id, time.time())
            self.arrived.set()
            self.arrived = anyio.Event()
        return None


class _Clock:
    """The store's and watcher's "now"; moved back only while the past is being written."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class Result:
    latencies: list[float]
    requests: list[int]

    @property
    def p50(self) -> float:
        return statistics.median(self.latencies)

    @property
    def p95(self) -> float:
        return percentile(self.latencies, 0.95)

    @property
    def per_sync(self) -> float:
        return statistics.mean(self.requests)


@asynccontextmanager
async def _stack(workdir: Path, clock: _Clock) -> AsyncIterator[tuple[Services, Sandbox]]:
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    scaled = {key: value * SCALE for key, value in WATCHER.items() if key != "anaplan_requests_per_second"}
    watcher = scaled | {"anaplan_requests_per_second": BUDGET_RPS / SCALE}
    settings = load_settings(
        env={"ALM_BOT_DATABASE_URL": f"sqlite:///{workdir / 'alm-bot.db'}"},
        defaults=sandbox_defaults() | {"watcher": watcher},
    )
    sandbox = Sandbox(task_duration=0.0, rate_limit_per_second=None)
    async with open_services(settings, sandbox=sandbox, clock=clock) as services:
        yield services, sandbox


async def _remember(services: Services, clock: _Clock, history: dict[str, list[float]]) -> None:
    """Write earlier successful syncs into the store, as a watcher that ran before would have."""
    store = services.store
    for target, durations in history.items():
        for number, seconds in enumerate(durations):
            clock.offset = -timedelta(seconds=seconds * SCALE)
            async with store.transaction() as tx:
                past = await tx.track_task(
                    "sync", target, f"PAST{target[:8]}{number:020d}", poll_interval_seconds=0.0
                )
            clock.offset = timedelta()
            await store.claim_due_tasks("history", clock(), timedelta(minutes=1), 100)
            await store.finish_task(past.id, "history", {"successful": True, "task_state": "COMPLETE"})


async def _start(services: Services, sandbox: Sandbox, target: str, revision_id: str, seconds: float) -> str:
    """One sync POST into ``target`` lasting ``seconds`` (unscaled), its request and tracked task."""
    ops, store = services.ops, services.store
    alm = ops.client.alm(target)
    latest = await alm.get_latest_revision()
    assert latest is not None
    sandbox.task_duration = seconds * SCALE
    task = await alm.sync_models(revision_id, seed.DEV_MODEL_ID, latest.id, wait_for_completion=False)
    now = ops.clock()
    async with store.transaction() as tx:
        request = await tx.insert_request(
            ApprovalRequest(
                operation="sync",
                parameters={"source": "dev", "target": target, "revision": revision_id},
                plan={"protected": False},
                target_model_id=target,
                requester_id=f"U0BENCH{target[:6]}",
                requester_name="Bench",
                origin="slack",
                state="requested",
                created_at=now,
                expires_at=now + ops.settings.approval.expires_after,
            )
        )
        await tx.transition(request.id, {"requested"}, "executing", anaplan_task_id=task.task_id)
        first = WATCHER["poll_min_seconds"] * SCALE  # what the core's default first interval stands for
        await tx.track_task("sync", target, task.task_id, request_id=request.id, poll_interval_seconds=first)
    return request.id


async def _follow(workdir: Path, plan: Plan, pacing: Pacing | None, *, learnt: bool) -> Result:
    clock, notices = _Clock(), _Notices()
    async with _stack(workdir, clock) as (services, sandbox):
        if learnt:
            await _remember(services, clock, plan.history)
        watcher = services.start_watcher(notices, pacing=pacing, idle_seconds=0.25 * SCALE)
        latencies: list[float] = []
        requests: list[int] = []
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher.run)
            for number, round_ in enumerate(plan.rounds):
                sandbox.structural_change(seed.DEV_MODEL_ID)
                revision = await services.ops.client.alm(seed.DEV_MODEL_ID).create_revision(
                    f"bench {number}", ""
                )
                started = {
                    await _start(services, sandbox, target, revision.id, seconds): target
                    for target, seconds in round_.items()
                }
                with anyio.fail_after(max(round_.values()) * SCALE * 3 + 30):
                    while not all(rid in notices.at for rid in started):
                        await notices.arrived.wait()
                for request_id in started:
                    request = await services.ops.get_request(request_id)
                    task_id = str(request.anaplan_task_id)
                    assert request.state == "succeeded", request
                    ended = sandbox.world.tasks[task_id].finishes_at
                    latencies.append((notices.at[request_id] - ended) / SCALE)
                    requests.append(
                        sum(1 for e in sandbox.request_log if e.method == "GET" and e.path.endswith(task_id))
                    )
            tg.cancel_scope.cancel()
    return Result(latencies, requests)


def _fixed(seconds: float) -> Pacing:
    interval = seconds * SCALE
    return Pacing(Backoff(interval, 1.0, interval), near_end=interval, learn=False)


async def run_pacing_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    plan = Plan.draw()
    learnt = await _follow(workdir / "learnt", plan, None, learnt=True)
    cold = await _follow(workdir / "cold", plan, None, learnt=False)
    every_1s = await _follow(workdir / "fixed-1s", plan, _fixed(1.0), learnt=False)
    every_5s = await _follow(workdir / "fixed-5s", plan, _fixed(5.0), learnt=False)
    durations = plan.durations
    low, high, middle = min(durations), max(durations), statistics.median(durations)
    spread = f"{SYNCS} syncs of {low:.0f}–{high:.0f} s (median {middle:.0f} s)"
    exact_1s = statistics.mean(1 + math.ceil(d) for d in durations)
    ratio = learnt.per_sync / exact_1s

    def latency(result: Result) -> str:
        return f"{result.p50:.2f} / {result.p95:.2f} s"

    rows = [
        Row(
            "10 pacing",
            f"{spread}: notice latency p50 / p95, learnt (vs fixed 1 s poll)",
            latency(learnt),
            f"1 s: {latency(every_1s)}; 5 s: {latency(every_5s)}",
            learnt.p50,
            " s",
            at_most(2.0),
        ),
        Row(
            "10 pacing",
            "Anaplan requests per sync, learnt ÷ an exact 1 s poll",
            f"{learnt.per_sync:.1f}",
            f"exact 1 s: {exact_1s:.1f}; measured 1 s: {every_1s.per_sync:.1f}; 5 s: {every_5s.per_sync:.1f}",
            ratio,
            "",
            at_most(0.2),
        ),
        Row(
            "10 pacing",
            "cold store (each target's first sync unknown): latency p50 / p95, requests per sync",
            f"{latency(cold)}, {cold.per_sync:.1f}",
            "",
        ),
    ]
    metrics = {
        "pacing_p50_s": learnt.p50,
        "pacing_p95_s": learnt.p95,
        "pacing_requests_per_sync": learnt.per_sync,
        "pacing_cold_p50_s": cold.p50,
        "pacing_cold_p95_s": cold.p95,
        "pacing_cold_requests_per_sync": cold.per_sync,
        "fixed_1s_p50_s": every_1s.p50,
        "fixed_1s_requests_per_sync": every_1s.per_sync,
        "exact_1s_requests_per_sync": exact_1s,
        "fixed_5s_p50_s": every_5s.p50,
        "fixed_5s_requests_per_sync": every_5s.per_sync,
    }
    return rows, metrics
