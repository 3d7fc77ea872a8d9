"""Two ``alm-bot serve`` replicas on one database (spawns processes): every notice once, no double sync.

Both replicas run against one ``alm-bot sandbox`` process and one fake Slack, on a SQLite file and on
a PostgreSQL database (skipped without ``ALM_BOT_TEST_POSTGRES_URL``). The test gives them:

- 100 tracked sync tasks, each with its own executing request and requester, made the way the core
  makes them after an approval (sync POSTs through the Anaplan client; request, audit-free, and
  ``track_task`` in one transaction) — both watchers poll them, and each requester must get one DM;
- a few ``/alm sync dev prod`` requests whose Approve click reaches *both* replicas at the same time
  (Slack retries, a load balancer) — exactly one sync may start per request.

The requests' outcomes differ (the sandbox judges compatibility when a task finishes, so most of the
syncs fail); that every request ends and is announced exactly once is what counts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest

from alm_bot.anaplan import AnaplanClient, BasicAuth
from alm_bot.sandbox import seed
from alm_bot.store import ApprovalRequest, Store
from tests.legacy_rows import plan_from_flat
from tests.live import WAIT, eventually
from tests.reliability.rig import APPROVALS, Rig, Serve, rig

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TRACKED = 100
DOUBLE_CLICKED = 3
ENDED = ("succeeded", "failed")


async def track_syncs(bot: Rig, count: int) -> list[str]:
    """``count`` sync tasks into TEST, each with an executing request of its own; their request ids.

    Anaplan refuses a second sync into a syncing model (409); these are many tracked tasks at once,
    so the sandbox's busy rule is switched off for them."""
    await bot.control("POST", "/fidelity", {"model_busy": False})
    auth = BasicAuth(seed.ADMIN_USER, seed.PASSWORD)
    async with AnaplanClient(auth=auth, api_url=f"{bot.sandbox_url}/2/0", auth_url=bot.sandbox_url) as client:
        alm = client.alm(seed.TEST_MODEL_ID)
        tasks = [
            (await alm.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, False)).task_id
            for _ in range(count)
        ]
    return [await _executing_request(bot.store, number, task_id) for number, task_id in enumerate(tasks)]


async def _executing_request(store: Store, number: int, task_id: str) -> str:
    now = datetime.now(UTC)
    async with store.transaction() as tx:
        request = await tx.insert_request(
            ApprovalRequest(
                operation="sync",
                parameters={"source": "dev", "target": "test", "revision": None},
                plan=plan_from_flat("sync", {"protected": False, "source_revision_name": seed.R4_NAME}),
                target_model_id=seed.TEST_MODEL_ID,
                requester_id=requester(number),
                requester_name=f"Requester {number}",
                origin="slack",
                state="requested",
                created_at=now,
                expires_at=now + timedelta(days=1),
            )
        )
        await tx.transition(request.id, {"requested"}, "executing", anaplan_task_id=task_id)
        await tx.track_task("sync", seed.TEST_MODEL_ID, task_id, request_id=request.id)
    return request.id


def requester(number: int) -> str:
    return f"U0REPLICA{number:03d}"


def asker(number: int) -> str:
    return f"U0ASKER{number}"


async def carded_syncs(bot: Rig, first: Serve) -> list[ApprovalRequest]:
    """Ask for syncs into prod; the requests once their cards are posted.

    Asked before the 100 tasks are tracked: a card then waits only for its own post, not behind a
    hundred polls and DMs on a loaded machine (it used to miss a 15 s bound under load)."""
    requests: list[ApprovalRequest] = []
    for number in range(DOUBLE_CLICKED):
        assert (await first.slash("sync dev prod", user=asker(number))).status_code == 200
        requests.append(
            await bot.request_where(
                lambda r: r.card_ref is not None, "the approval card", requester_id=asker(number)
            )
        )
    return requests


async def double_click(first: Serve, second: Serve, requests: list[ApprovalRequest]) -> list[str]:
    """Approve each request on both replicas at once; their ids."""
    for request in requests:
        async with anyio.create_task_group() as both:
            both.start_soon(first.approve, request)
            both.start_soon(second.approve, request)
    return [request.id for request in requests]


async def all_ended(bot: Rig, ids: list[str]) -> bool:
    requests = [await bot.store.get_request(request_id) for request_id in ids]
    return all(r is not None and r.state in ENDED for r in requests)


async def test_two_replicas_on_one_database_announce_every_result_once_and_start_no_sync_twice(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=2, lease_seconds=5, anaplan_rate_limit=False) as bot:
        async with bot.serve() as first, bot.serve() as second:
            carded = await carded_syncs(bot, first)
            tracked = await track_syncs(bot, TRACKED)  # both watchers now poll a hundred tasks
            clicked = await double_click(first, second, carded)
            ids = tracked + clicked
            try:
                await eventually(lambda: all_ended(bot, ids), "every request to end", timeout=WAIT * 4)
            except AssertionError as late:
                states = [await bot.store.get_request(i) for i in ids]
                open_ones = [(r.id, r.state, r.result) for r in states if r and r.state not in ENDED]
                raise AssertionError(f"{late}: {open_ones[:5]}\n{first.spawned.stderr[-3000:]}") from None
            await bot.outbox_empty()
        # Both replicas have stopped: nothing more can arrive, so these counts are final.
        for replica in (first, second):  # each did a share of the work (the watcher logs each result)
            assert re.search(r"sync task \S+ finished", replica.spawned.stderr), replica.spawned
        into_prod = f"/models/{seed.PROD_MODEL_ID}/alm/syncTasks"
        posts = [e for e in await bot.anaplan_requests() if e["method"] == "POST"]
        assert sum(1 for e in posts if e["path"].endswith(into_prod)) == DOUBLE_CLICKED
        for number, request_id in enumerate(tracked):
            request = await bot.store.get_request(request_id)
            assert request is not None
            assert len(bot.finished_dms(request_id, requester(number), request.state)) == 1, request_id
        cards = bot.posts(lambda c: c.params.get("channel") == APPROVALS and not c.params.get("thread_ts"))
        for number, request_id in enumerate(clicked):
            request = await bot.store.get_request(request_id)
            assert request is not None
            assert len([c for c in cards if request_id in str(c.params.get("text"))]) == 1
            assert len(bot.finished_replies(request, request.state)) == 1, request_id
            assert len(bot.finished_dms(request_id, asker(number), request.state)) == 1, request_id
