"""A 10-target release in 2 waves against 10 single syncs approved one by one: time and Anaplan requests.

Both run in the same process, one after the other, each on a fresh sandbox tenant and a fresh SQLite
store, with the watcher as shipped except for a quick poll (first poll 0.2 s, at most 1 s, near the
end 0.2 s) and Anaplan's published budget of 10 requests/s. The tenant has FP&A PROD and ten copies
of it (same workspace and revision history, protected), and every sync takes ``TASK_SECONDS``.

- **release**: ``ReleaseSpec("dev", waves=[prod-1..5], [prod-6..10])`` is requested (preflight and
  the ten comparison summaries happen then) and approved once; measured from the approval to the
  requester's one ``task_finished`` notice (the final DM).
- **singles**: ten ``request_sync("dev", prod-N)`` are requested first, then approved one after the
  other as fast as the core takes them; measured from the first approval to the last of the ten
  ``task_finished`` notices to the requester.

Anaplan requests are what the sandbox logged in each measured window (the stale-plan checks, the
sync POSTs, the watcher's polls, the post-sync verification): the same work but for how it is
grouped. A release's second wave waits for its first, so it takes about two task durations where
the singles, all started at once, take about one; the point of a release is one approval, one card
and one DM — and a failure in wave 1 stopping wave 2 — not speed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import anyio

from alm_bot.actor import Actor
from alm_bot.config import load_settings
from alm_bot.notify import DeliveryReceipt, Notice
from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import Services, open_services, sandbox_defaults
from tools.bench_report import Row

__all__ = ["run_release_benchmarks"]

TARGETS: Final = 10
TASK_SECONDS: Final = 2.0
REQUESTER: Final = Actor("U0BENCHREQ", "Ada", "slack")
APPROVER: Final = Actor("U0APPROVER1", "Grace", "slack")
WATCHER: Final = {
    "poll_min_seconds": 0.2,
    "poll_max_seconds": 1.0,
    "poll_near_end_seconds": 0.2,
    "anaplan_requests_per_second": 10.0,
}


@dataclass
class _Finished:
    """A `Notifier` noting when each request's ``task_finished`` DM to its requester arrived."""

    at: dict[str, float] = field(default_factory=dict)
    arrived: anyio.Event = field(default_factory=anyio.Event)

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        if notice.kind == "task_finished" and notice.destination.startswith("user:") and notice.request:
            self.at.setdefault(notice.request.id, time.monotonic())
            self.arrived.set()
            self.arrived = anyio.Event()
        return None

    async def wait_for(self, request_ids: list[str]) -> float:
        """When the last of these requests' final DMs arrived (bounded by the caller's deadline)."""
        while not all(rid in self.at for rid in request_ids):
            await self.arrived.wait()
        return max(self.at[rid] for rid in request_ids)


def _copies(sandbox: Sandbox) -> dict[str, dict[str, object]]:
    """Ten copies of FP&A PROD in the tenant; their ``[models]`` aliases prod-1 … prod-10."""
    prod = sandbox.world.models[seed.PROD_MODEL_ID]
    models: dict[str, dict[str, object]] = {}
    for number in range(1, TARGETS + 1):
        model_id = f"BE0C{number:028X}"
        sandbox.world.models[model_id] = dataclasses.replace(
            prod, id=model_id, name=f"FP&A PROD {number}", revision_ids=list(prod.revision_ids)
        )
        models[f"prod-{number}"] = {"id": model_id, "protected": True}
    return models


@asynccontextmanager
async def _stack(workdir: Path) -> AsyncIterator[tuple[Services, Sandbox, _Finished]]:
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    sandbox = Sandbox(task_duration=TASK_SECONDS, rate_limit_per_second=None)
    defaults = sandbox_defaults()
    defaults["models"] = defaults["models"] | _copies(sandbox)
    defaults["watcher"] = WATCHER
    settings = load_settings(
        env={"ALM_BOT_DATABASE_URL": f"sqlite:///{workdir / 'alm-bot.db'}"}, defaults=defaults
    )
    finished = _Finished()
    async with open_services(settings, sandbox=sandbox) as services, anyio.create_task_group() as tg:
        watcher = services.start_watcher(finished, idle_seconds=0.02)
        tg.start_soon(watcher.run)
        yield services, sandbox, finished
        watcher.stop()


@dataclass(frozen=True)
class Measured:
    seconds: float
    anaplan_requests: int
    sync_posts: int


def _window(sandbox: Sandbox, since: int) -> tuple[int, int]:
    logged = sandbox.request_log[since:]
    posts = sum(1 for e in logged if e.method == "POST" and e.path.endswith("/syncTasks"))
    return len(logged), posts


async def _release(workdir: Path) -> Measured:
    async with _stack(workdir) as (services, sandbox, finished):
        names = [f"prod-{n}" for n in range(1, TARGETS + 1)]
        spec = ReleaseSpec("dev", (tuple(names[: TARGETS // 2]), tuple(names[TARGETS // 2 :])))
        outcome = await services.ops.releases.request_release(spec, actor=REQUESTER)
        assert outcome.status == "awaiting_approval", outcome
        since, started = len(sandbox.request_log), time.monotonic()
        await services.ops.requests.decide(outcome.request.id, actor=APPROVER, approve=True)
        with anyio.fail_after(120):
            ended = await finished.wait_for([outcome.request.id])
        done = await services.ops.get_request(outcome.request.id)
        assert done.state == "succeeded", done.result
        return Measured(ended - started, *_window(sandbox, since))


async def _singles(workdir: Path) -> Measured:
    async with _stack(workdir) as (services, sandbox, finished):
        ids = []
        for number in range(1, TARGETS + 1):
            outcome = await services.ops.requests.request_sync("dev", f"prod-{number}", actor=REQUESTER)
            ids.append(outcome.request.id)
        since, started = len(sandbox.request_log), time.monotonic()
        for request_id in ids:
            await services.ops.requests.decide(request_id, actor=APPROVER, approve=True)
        with anyio.fail_after(120):
            ended = await finished.wait_for(ids)
        for request_id in ids:
            assert (await services.ops.get_request(request_id)).state == "succeeded"
        return Measured(ended - started, *_window(sandbox, since))


async def run_release_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    release = await _release(workdir / "release")
    singles = await _singles(workdir / "singles")
    rows = [
        Row(
            "11 release",
            f"{TARGETS} targets in 2 waves, approval → final DM ({TASK_SECONDS:g} s tasks), "
            f"vs {TARGETS} single syncs approved one by one",
            f"{release.seconds:.2f} s",
            f"{singles.seconds:.2f} s",
            release.seconds / singles.seconds,
            "×",
        ),
        Row(
            "11 release",
            "Anaplan requests in that window (sync POSTs)",
            f"{release.anaplan_requests} ({release.sync_posts})",
            f"{singles.anaplan_requests} ({singles.sync_posts})",
            release.anaplan_requests / singles.anaplan_requests,
            "×",
        ),
        Row(
            "11 release",
            "approvals asked / cards / final DMs",
            "1 / 1 / 1",
            f"{TARGETS} / {TARGETS} / {TARGETS}",
        ),
    ]
    values = {
        "release_seconds": release.seconds,
        "singles_seconds": singles.seconds,
        "release_requests": float(release.anaplan_requests),
        "singles_requests": float(singles.anaplan_requests),
    }
    return rows, values
