"""Anaplan failing while a sync is started or followed (spawns a sandbox process): never a second sync,
always a clear outcome.

The core runs in-process (services, operations, watcher, a SQLite file) against an ``alm-bot sandbox``
process over real loopback HTTP — real timeouts, real connections — with a 1 s Anaplan timeout. Each
test requests a sync into prod, arms a fault through ``POST /_sandbox/faults``, approves, and lets the
watcher run until the request ends. Then: Anaplan started the sync at most once (sync POSTs answered
201 in the sandbox's request log), and the request ended succeeded, or failed with a message that
says what to do next.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from alm_bot.actor import Actor
from alm_bot.config import load_settings
from alm_bot.notify import NullNotifier
from alm_bot.services import Services, open_services
from alm_bot.store import ApprovalRequest
from tests.live import WAIT, eventually
from tests.processes import clean_env, sandbox_config, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ADA = Actor("U0REQUESTER", "Ada", "slack")
GRACE = Actor("U0APPROVER1", "Grace", "slack")
SYNC_POST = {"method": "POST", "path": "/syncTasks$"}
TASK_POLL = {"method": "GET", "path": "/syncTasks/[0-9A-Fa-f]+$"}
CLIENT_TIMEOUT = 1
LATE = 2.5  # seconds an answer is held back: past the client's timeout


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def sandbox_url(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """One ``alm-bot sandbox`` process for the module; tasks take half a second."""
    where = tmp_path_factory.mktemp("sandbox")
    args = ("sandbox", "--port", "0", "--task-duration", "0.5")
    async with spawn_alm_bot(*args, env=clean_env(), cwd=where, name="sandbox") as sandbox:
        url = (await sandbox.line(r"listening on (http://\S+)$")).group(1)
        async with httpx2.AsyncClient() as http:

            async def answers() -> bool:
                try:
                    return (await http.get(f"{url}/_sandbox")).status_code == 200
                except httpx2.TransportError:
                    return False

            await eventually(answers, "the sandbox to answer")
        yield url


@dataclass
class Anaplan:
    """The sandbox process, through its control endpoints."""

    url: str
    http: httpx2.AsyncClient

    async def fault(self, **fault: Any) -> None:
        (await self.http.post(f"{self.url}/_sandbox/faults", json=fault)).raise_for_status()

    async def sync_posts(self, status: int | None = None) -> list[dict[str, Any]]:
        log = (await self.http.get(f"{self.url}/_sandbox/requests")).json()["requests"]
        return [
            e
            for e in log
            if e["method"] == "POST"
            and e["path"].endswith("/syncTasks")
            and (status is None or e["status"] == status)
        ]


@pytest.fixture
async def anaplan(sandbox_url: str) -> AsyncIterator[Anaplan]:
    async with httpx2.AsyncClient(timeout=WAIT) as http:
        (await http.post(f"{sandbox_url}/_sandbox/reset")).raise_for_status()
        # Recovery proves a late-answered start by the finished task's revisions, which only the rich
        # result shape shows (which task gets which shape is drawn per task number, and the plan's own
        # summary and report tasks shift the draw).
        rich = await http.post(f"{sandbox_url}/_sandbox/fidelity", json={"result_shapes": "rich"})
        rich.raise_for_status()
        yield Anaplan(sandbox_url, http)


@pytest.fixture
async def services(sandbox_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    config = sandbox_config(tmp_path)
    config.write_text(config.read_text() + f"\n[anaplan]\ntimeout_seconds = {CLIENT_TIMEOUT}\n")
    env = {
        "ANAPLAN_API_URL": f"{sandbox_url}/2/0",
        "ANAPLAN_AUTH_URL": sandbox_url,
        "ANAPLAN_USERNAME": "admin@sandbox.example",
        "ANAPLAN_PASSWORD": "sandbox",
        "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}",
    }
    settings = load_settings(env=clean_env(**env), config_file=config)
    async with open_services(settings) as opened:
        opened.start_watcher(NullNotifier(), idle_seconds=0.05)
        yield opened


async def approve_with(services: Services, anaplan: Anaplan, *faults: dict[str, Any]) -> ApprovalRequest:
    """Request a sync into prod, arm ``faults``, approve, and follow the request until it ends."""
    ops = services.ops
    pending = (await ops.requests.request_sync("dev", "prod", actor=ADA)).request
    for fault in faults:
        await anaplan.fault(**fault)
    await ops.requests.decide(pending.id, actor=GRACE, approve=True)
    watcher = services.watcher
    assert watcher is not None
    with anyio.fail_after(WAIT * 2):
        while (request := await ops.get_request(pending.id)).state not in ("succeeded", "failed"):
            await watcher.tick()
            await anyio.sleep(0.05)  # the next poll's time; the watcher has no event to wait on
    return request


@pytest.mark.parametrize(
    ("faults", "sent"),
    [
        pytest.param([SYNC_POST | {"status": 429, "retry_after": 1}], 2, id="429-with-retry-after"),
        pytest.param([SYNC_POST | {"status": 500}], 2, id="500"),
        pytest.param([SYNC_POST | {"status": 503, "times": 2}], 3, id="503-twice"),
        pytest.param([SYNC_POST | {"status": 401}], 2, id="401-token-expired"),
        pytest.param([SYNC_POST | {"delay": LATE}], 1, id="answer-after-the-client-timeout"),
        pytest.param([TASK_POLL | {"status": 503, "times": 3}], 1, id="polls-answered-503"),
        pytest.param([TASK_POLL | {"status": 429, "retry_after": 1, "times": 2}], 1, id="polls-answered-429"),
        pytest.param([TASK_POLL | {"delay": LATE}], 1, id="a-poll-after-the-client-timeout"),
    ],
)
async def test_a_sync_that_meets_a_passing_fault_starts_once_and_succeeds(
    services: Services, anaplan: Anaplan, faults: list[dict[str, Any]], sent: int
) -> None:
    request = await approve_with(services, anaplan, *faults)

    assert request.state == "succeeded", request.result
    # A late answer is logged when it is finally sent: wait for the log to hold every POST.
    await eventually(lambda: has_posts(anaplan, sent), f"{sent} sync POST(s) in the sandbox's log")
    assert len(await anaplan.sync_posts(status=201)) == 1
    assert len(await anaplan.sync_posts()) == sent


async def has_posts(anaplan: Anaplan, count: int) -> bool:
    return len(await anaplan.sync_posts()) >= count


@pytest.mark.parametrize(
    ("faults", "advice"),
    [
        pytest.param(
            [SYNC_POST | {"status": 429, "retry_after": 1, "times": 10}],
            "Try again in 1 second.",
            id="429-every-time",
        ),
        pytest.param(
            [SYNC_POST | {"status": 503, "times": 10}], "Try again in a few minutes", id="503-every-time"
        ),
        pytest.param(
            # Anaplan's answer is lost: alm-bot leaves the start to recovery, which finds no task.
            [SYNC_POST | {"status": 503, "delay": LATE}],
            "cannot prove whether it started; check the target's sync tasks",
            id="no-answer-and-no-task",
        ),
    ],
)
async def test_a_sync_that_meets_a_lasting_fault_fails_with_what_to_do_and_never_starts_twice(
    services: Services, anaplan: Anaplan, faults: list[dict[str, Any]], advice: str
) -> None:
    request = await approve_with(services, anaplan, *faults)

    assert request.state == "failed"
    assert advice in str(request.result.message if request.result else None), request.result
    assert len(await anaplan.sync_posts(status=201)) == 0
