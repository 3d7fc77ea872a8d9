"""From an Anaplan task finishing to the notice in Slack — for one task, and for 200 at once.

Built in-process: `open_services` with a `Sandbox` (tasks take ``task_duration`` seconds of real
time; its rate limit off — the watcher's own budget is what is measured), the real watcher with
the real `SlackNotifier`, and a `tools.fake_slack.FakeSlack`. The watcher runs with the budget
written in `BUDGET_RPS` as ``[watcher] anaplan_requests_per_second``; everything else as shipped.

- **one task** (repeated, the sandbox reset each time): ``request_sync("dev", "test")`` by a Slack
  user, the approval card posted, approval by an approver — the whole product path. Latency =
  fake Slack's arrival time of the first post that says the request ended (thread reply or DM)
  − the task's finishing time in the sandbox (``Task.finishes_at``, same machine clock).
- **200 tasks**: the approval flow cannot start 200 syncs into the seed's few models, so the tasks
  are made the way the core makes them after an approval, minus the plan: 200 sync POSTs through
  the Anaplan client, and per task a request (state executing, unprotected, one requester each) and
  ``tx.track_task`` in one transaction — all *before* the watcher starts, so every Anaplan request
  the sandbox logs afterwards is the watcher's. (The sandbox judges compatibility when a task
  finishes: one sync succeeds, 199 fail — both are a finished task and a notice.) Latency per task
  as above; the peak request rate is the most requests the sandbox logged in any 1 s window
  (sliding, per request) while the watcher worked.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio

from alm_bot.actor import Actor
from alm_bot.config import load_settings
from alm_bot.records import ModelRef, RevisionRef, SyncPlan, SyncTarget
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.slack.app import slack_client
from alm_bot.slack.notifier import SlackNotifier
from alm_bot.store import ApprovalRequest
from tools.bench_report import Row, at_most, summary
from tools.fake_slack import Call, FakeSlack

__all__ = ["run_notify_benchmarks"]

BOT_TOKEN = "xoxb-bench"
BUDGET_RPS = 10.0
MANY = 200
REQUESTER = Actor("U0REQUESTER", "Ada", "slack")
APPROVER = Actor("U0APPROVER1", "Grace", "slack")


@dataclass
class _Stack:
    services: Services
    sandbox: Sandbox
    fake: FakeSlack

    def finished_at(self, task_id: str) -> float:
        """When the sandbox task finished, on `time.monotonic()`'s scale (what fake Slack records)."""
        finishes = self.sandbox.world.tasks[task_id].finishes_at
        return finishes - (time.time() - time.monotonic())

    async def ended_notice(self, request_id: str, seconds: float) -> Call:
        """The first post saying the request ended: the card's thread reply or the requester's DM."""

        def says_ended(call: Call) -> bool:
            text = str(call.params.get("text", ""))
            return request_id in text and ("succeeded" in text or "failed" in text)

        (call, *_) = await self.fake.wait_for("chat.postMessage", where=says_ended, timeout=seconds)
        return call


@asynccontextmanager
async def _stack(workdir: Path, task_duration: float) -> AsyncIterator[_Stack]:
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        env = {
            "ALM_BOT_DATABASE_URL": f"sqlite:///{workdir / 'alm-bot.db'}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "unused",
            "SLACK_API_URL": fake.api_url,
        }
        defaults = sandbox_defaults() | {"watcher": {"anaplan_requests_per_second": BUDGET_RPS}}
        settings = load_settings(env=env, defaults=defaults)
        sandbox = Sandbox(task_duration=task_duration, rate_limit_per_second=None)
        async with open_services(settings, sandbox=sandbox) as services:
            yield _Stack(services, sandbox, fake)


@asynccontextmanager
async def _watching(stack: _Stack) -> AsyncIterator[None]:
    services = stack.services
    watcher = services.start_watcher(
        SlackNotifier(slack_client(services.settings), services.settings, services.ops)
    )
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        try:
            yield
        finally:
            tg.cancel_scope.cancel()


async def _eventually(check: Callable[[], Awaitable[Any]], seconds: float) -> Any:
    with anyio.fail_after(seconds):
        while not (found := await check()):  # noqa: ASYNC110 - a store read has no change event
            await anyio.sleep(0.01)
    return found


async def _one_task(stack: _Stack, task_duration: float) -> float:
    """Request, card, approval, then seconds from the task's end to the notice."""
    ops, store = stack.services.ops, stack.services.store
    stack.sandbox.reset()
    outcome = await ops.requests.request_sync("dev", "test", actor=REQUESTER)
    request_id = outcome.request.id

    async def card_posted() -> ApprovalRequest | None:
        request = await store.get_request(request_id)
        return request if request is not None and request.card_ref else None

    await _eventually(card_posted, 30)
    approved = await ops.requests.decide(request_id, actor=APPROVER, approve=True)
    assert approved.anaplan_task_id is not None, approved
    notice = await stack.ended_notice(request_id, seconds=task_duration + 60)
    return notice.at - stack.finished_at(approved.anaplan_task_id)


async def _start_many(stack: _Stack, count: int) -> dict[str, str]:
    """``count`` sync tasks and their executing requests; request id → task id."""
    ops, store = stack.services.ops, stack.services.store
    alm = ops.client.alm(seed.TEST_MODEL_ID)
    started: dict[str, str] = {}
    for number in range(count):
        task = await alm.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False)
        now = ops.clock()
        async with store.transaction() as tx:
            request = await tx.insert_request(
                ApprovalRequest(
                    operation="sync",
                    parameters={"source": "dev", "target": "test", "revision": None},
                    plan=_BENCH_PLAN,
                    target_model_id=seed.TEST_MODEL_ID,
                    requester_id=f"U0BENCH{number:03d}",
                    requester_name=f"Bench {number}",
                    origin="slack",
                    state="requested",
                    created_at=now,
                    expires_at=now + ops.settings.approval.expires_after,
                )
            )
            await tx.transition(request.id, {"requested"}, "executing", anaplan_task_id=task.task_id)
            await tx.track_task("sync", seed.TEST_MODEL_ID, task.task_id, request_id=request.id)
        started[request.id] = task.task_id
    return started


_BENCH_PLAN = SyncPlan(
    source=ModelRef(id=seed.DEV_MODEL_ID, name="FP&A DEV"),
    source_revision=RevisionRef(id=seed.R4_ID, name=seed.R4_NAME),
    targets=(
        SyncTarget(
            model=ModelRef(id=seed.TEST_MODEL_ID, name="FP&A TEST"),
            revision=RevisionRef(id=seed.R3_ID, name=seed.R3_NAME),
        ),
    ),
)


def _peak_rate(times: list[float]) -> int:
    """The most requests within any 1 s window (a window starting at each request)."""
    ordered = sorted(times)
    peak, low = 0, 0
    for high, at in enumerate(ordered):
        while at - ordered[low] >= 1.0:
            low += 1
        peak = max(peak, high - low + 1)
    return peak


async def _many_tasks(stack: _Stack, task_duration: float) -> tuple[list[float], int]:
    started = await _start_many(stack, MANY)
    stack.sandbox.request_log.clear()
    latencies: list[float] = []
    async with _watching(stack), anyio.create_task_group() as tg:

        async def measure(request_id: str, task_id: str) -> None:
            notice = await stack.ended_notice(request_id, seconds=task_duration + MANY / BUDGET_RPS * 3 + 60)
            latencies.append(notice.at - stack.finished_at(task_id))

        for request_id, task_id in started.items():
            tg.start_soon(measure, request_id, task_id)
    peak = _peak_rate([entry.time for entry in stack.sandbox.request_log])
    return latencies, peak


async def run_notify_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    one_duration, repeats = (2.0, 6) if quick else (5.0, 20)
    async with _stack(workdir / "one", one_duration) as stack, _watching(stack):
        single = [await _one_task(stack, one_duration) for _ in range(repeats)]
    many_duration = 10.0
    async with _stack(workdir / "many", many_duration) as stack:
        many, peak = await _many_tasks(stack, many_duration)
    one, lots = summary(single), summary(many)
    rows = [
        Row(
            "6 notify",
            f"one task: p50 of {repeats} runs (end in Anaplan → notice in Slack)",
            f"{one['p50']:.2f} s",
            "",
            one["p50"],
            " s",
            at_most(1.5),
        ),
        Row("6 notify", "one task: p95", f"{one['p95']:.2f} s", "", one["p95"], " s", at_most(3)),
        Row(
            "6 notify",
            f"{MANY} tasks at once: p50 / p95 / max",
            f"{lots['p50']:.1f} / {lots['p95']:.1f} / {lots['max']:.1f} s",
            f"{MANY} results ÷ budget = {MANY / BUDGET_RPS:.0f} s",
        ),
        Row(
            "6 notify",
            "peak Anaplan requests in any 1 s (budget)",
            f"{peak}/s",
            f"{BUDGET_RPS:g}/s",
            peak,
            "/s",
            at_most(BUDGET_RPS),
        ),
    ]
    metrics = {
        "notify_p50_s": one["p50"],
        "notify_p95_s": one["p95"],
        "notify_200_p50_s": lots["p50"],
        "notify_200_p95_s": lots["p95"],
        "anaplan_peak_rps": float(peak),
        "anaplan_budget_rps": BUDGET_RPS,
    }
    return rows, metrics
