"""``kill -9`` of ``alm-bot serve`` inside each window of approve → stale-plan check → sync POST.

Each window is opened deterministically with a sandbox delay fault (the call is held back long after
the kill), never by luck: the test waits until the database shows the request inside the window,
then kills. After a restart it asserts what the README promises: every request final within a bound
(the owner's lease, 10 s, proves the killed process gone — no five-minute orphan wait), at most one
sync POST per approval, no Anaplan task claimed by two requests, and no Slack message (channel,
thread, text) posted twice. Settling times (restart → every request final) are appended to the file
``ALM_BOT_SETTLE_LOG`` names, if set.

The windows: between the approval and the POST (the plan check is the first Anaplan call after the
approval, so holding it opens the whole window), during a sync POST that never reached Anaplan,
during one that did (its answer held), after Anaplan answered it but before the task id was
recorded (writes held by another connection), and during a POST while another request's sync into
the same target runs — 5 windows × 2 databases. A notice in flight with a slow Slack is
`test_notice_killed` (3 kinds × 2 databases).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import asyncpg
import httpx2
import pytest

from alm_bot.anaplan import AnaplanClient, BasicAuth
from alm_bot.sandbox import seed
from alm_bot.store import ApprovalRequest
from tests.live import eventually
from tests.reliability.rig import REQUESTER, Rig, Serve, rig

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASK_SECONDS = 600  # of the sandbox's clock, which the test moves
HELD = 20.0  # seconds a faulted call is held back: beyond the kill (the sandbox's log shows it only then)
SETTLE_BOUND = 45.0  # restart → every request final (lease 10 s + a late POST's 15 s + polling)
SECOND_REQUESTER = "U0REQUESTER2"
PROD = seed.PROD_MODEL_ID


LATEST = {"method": "GET", "path": "/alm/latestRevision$"}
SYNC_POST = {"method": "POST", "path": "/syncTasks$"}


async def fault(bot: Rig, **spec: Any) -> None:
    await bot.control("POST", "/faults", spec)


async def faults_taken(bot: Rig) -> None:
    """Wait until every armed fault was taken: the faulted call reached Anaplan and is held there."""

    async def taken() -> bool:
        return not (await bot.control("GET", "/faults"))["faults"]

    await eventually(taken, "the faulted call to reach Anaplan")


async def card_of(bot: Rig, requester: str = REQUESTER) -> ApprovalRequest:
    return await bot.request_where(
        lambda r: r.card_ref is not None, "the approval card", requester_id=requester
    )


async def in_state(
    bot: Rig, request_id: str, check: Callable[[ApprovalRequest], bool], what: str
) -> ApprovalRequest:
    found: list[ApprovalRequest] = []

    async def holds() -> bool:
        current = await bot.store.get_request(request_id)
        found[:] = [current] if current is not None and check(current) else []
        return bool(found)

    await eventually(holds, what)
    return found[0]


async def listed_sync_tasks(bot: Rig, model_id: str) -> list[str]:
    auth = BasicAuth(seed.ADMIN_USER, seed.PASSWORD)
    async with AnaplanClient(auth=auth, api_url=f"{bot.sandbox_url}/2/0", auth_url=bot.sandbox_url) as client:
        return [t.task_id for t in await client.alm(model_id).get_sync_tasks()]


async def approve_in_background(tg: anyio.abc.TaskGroup, serve: Serve, request: ApprovalRequest) -> None:
    """Click Approve without waiting for the answer: the process will die before it is sent."""

    async def click() -> None:
        with contextlib.suppress(httpx2.TransportError):  # the process was killed under the click
            await serve.approve(request)

    tg.start_soon(click)


async def settle_after_restart(bot: Rig, request_ids: list[str], finish_tasks: bool) -> float:
    """Restart serve; seconds until every request is final.

    ``finish_tasks``: move Anaplan's clock every second, so a sync started (or adopted) after the
    restart ends at once and the time measured is alm-bot's, not the sync's.
    """
    async with bot.serve() as restarted:
        started = time.monotonic()
        moved = [started - 1.0]

        async def all_final() -> bool:
            if finish_tasks and time.monotonic() - moved[0] >= 1.0:
                moved[0] = time.monotonic()
                await bot.advance(TASK_SECONDS + 1)  # whatever sync runs now ends at once
            for request_id in request_ids:
                request = await bot.store.get_request(request_id)
                if request is None or request.state not in ("succeeded", "failed"):
                    return False
            return True

        try:
            await eventually(all_final, "every request to be final", timeout=SETTLE_BOUND)
        except AssertionError as late:
            states = [await bot.store.get_request(r) for r in request_ids]
            raise AssertionError(f"{late}: {states}\n{restarted.spawned.stderr[-3000:]}") from None
        seconds = time.monotonic() - started
        await bot.outbox_empty()
    _log_settle(seconds)
    return seconds


def _log_settle(seconds: float) -> None:
    path = os.environ.get("ALM_BOT_SETTLE_LOG")
    if path:
        with Path(path).open("a") as log:
            log.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '?').split(' ')[0]} {seconds:.2f}\n")


async def no_task_claimed_twice(bot: Rig) -> None:
    """No task id twice, every request final, and no Slack message (channel, thread, text) twice."""
    claimed = [r.anaplan_task_id for r in await bot.store.list_requests() if r.anaplan_task_id]
    assert len(claimed) == len(set(claimed)), claimed
    for request in await bot.store.list_requests():
        assert request.state in ("succeeded", "failed"), request
    assert bot.fake.repeated_posts() == []


async def killed_in(
    bot: Rig, arm: list[dict[str, Any]], window: Callable[[ApprovalRequest], bool], what: str
) -> ApprovalRequest:
    """Request a sync into prod, arm the faults, approve, and kill serve once ``window`` holds."""
    async with bot.serve() as first, anyio.create_task_group() as tg:
        assert (await first.slash("sync dev prod")).status_code == 200
        pending = await card_of(bot)
        for spec in arm:
            await fault(bot, **spec)
        await approve_in_background(tg, first, pending)
        await faults_taken(bot)
        inside = await in_state(bot, pending.id, window, what)
        await first.kill()
    return inside


def approved_not_executing(request: ApprovalRequest) -> bool:
    return request.state == "approved"


def executing_without_task(request: ApprovalRequest) -> bool:
    return request.state == "executing" and request.anaplan_task_id is None


@pytest.mark.parametrize(
    "held",
    [
        # The plan check is the first Anaplan call after the approval (it reads the target's latest
        # revision; the target's names come from the stored plan), so this is the whole window.
        pytest.param(LATEST, id="during-the-plan-check"),
    ],
)
async def test_killed_between_the_approval_and_the_post_it_is_executed_again_once(
    database_url: str, tmp_path: Path, held: dict[str, Any]
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        request = await killed_in(bot, [held | {"delay": HELD}], approved_not_executing, "approved")
        assert await bot.sync_posts(status=None) == 0

        await settle_after_restart(bot, [request.id], finish_tasks=True)
        done = await bot.store.get_request(request.id)
        assert done is not None
        assert done.state == "succeeded", done.result
        assert await bot.sync_posts(status=None) == 1
        await no_task_claimed_twice(bot)


async def test_killed_during_a_sync_post_that_never_reached_anaplan_it_fails_saying_what_to_check(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        # Anaplan holds the POST and then refuses it: no task is ever created.
        arm = [SYNC_POST | {"status": 503, "delay": HELD}]
        request = await killed_in(bot, arm, executing_without_task, "the sync POST in flight")
        assert request.start_intent is not None  # recorded before the POST

        await settle_after_restart(bot, [request.id], finish_tasks=False)
        failed = await bot.store.get_request(request.id)
        assert failed is not None
        assert failed.state == "failed"
        assert failed.result is not None
        assert failed.result.cause == "start_unconfirmed"
        assert "check the target's sync tasks" in str(failed.result.message)
        assert await bot.sync_posts(status=201) == 0
        await no_task_claimed_twice(bot)


async def test_killed_after_the_post_reached_anaplan_before_the_record_it_adopts_its_own_task(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        before = await listed_sync_tasks(bot, PROD)
        # Anaplan carries the POST out at once and holds back only its answer.
        arm = [SYNC_POST | {"delay": HELD}]
        async with bot.serve() as first, anyio.create_task_group() as tg:
            assert (await first.slash("sync dev prod")).status_code == 200
            pending = await card_of(bot)
            for spec in arm:
                await fault(bot, **spec)
            await approve_in_background(tg, first, pending)
            await faults_taken(bot)
            await in_state(bot, pending.id, executing_without_task, "the sync POST in flight")

            async def created() -> bool:
                return len(await listed_sync_tasks(bot, PROD)) > len(before)

            await eventually(created, "Anaplan to create the task")
            await first.kill()
        (task_id,) = set(await listed_sync_tasks(bot, PROD)) - set(before)

        await settle_after_restart(bot, [pending.id], finish_tasks=True)
        done = await bot.store.get_request(pending.id)
        assert done is not None
        assert (done.state, done.anaplan_task_id) == ("succeeded", task_id)
        assert set(await listed_sync_tasks(bot, PROD)) - set(before) == {task_id}  # one sync started
        await no_task_claimed_twice(bot)


async def test_killed_during_a_post_while_another_sync_into_the_target_runs_it_never_takes_that_task(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        async with bot.serve() as first, anyio.create_task_group() as tg:
            assert (await first.slash("sync dev prod")).status_code == 200
            a = await card_of(bot)
            assert (await first.slash("sync dev prod", user=SECOND_REQUESTER)).status_code == 200
            b = await card_of(bot, SECOND_REQUESTER)
            # A's POST is held and then refused; B is approved meanwhile and its sync starts.
            await fault(bot, **(SYNC_POST | {"status": 503, "delay": HELD, "times": 1}))
            await approve_in_background(tg, first, a)
            await faults_taken(bot)
            await in_state(bot, a.id, executing_without_task, "A's sync POST in flight")
            assert (await first.approve(b)).status_code == 200
            running = await in_state(bot, b.id, lambda r: r.anaplan_task_id is not None, "B's sync to start")
            await first.kill()

        await settle_after_restart(bot, [a.id, b.id], finish_tasks=True)
        a_done, b_done = await bot.store.get_request(a.id), await bot.store.get_request(b.id)
        assert a_done is not None
        assert b_done is not None
        assert a_done.state == "failed"
        assert a_done.anaplan_task_id is None
        assert a_done.result is not None
        assert running.anaplan_task_id not in (a_done.result.considered_task_ids or ())
        assert (b_done.state, b_done.anaplan_task_id) == ("succeeded", running.anaplan_task_id)
        assert await bot.sync_posts(status=201) == 1
        await no_task_claimed_twice(bot)


@asynccontextmanager
async def writes_held(database_url: str) -> AsyncIterator[None]:
    """Another connection holds back every write to the requests (readers go on), until the block ends."""
    if database_url.startswith("postgresql"):
        connection = await asyncpg.connect(database_url)
        try:
            transaction = connection.transaction()
            await transaction.start()
            await connection.execute("LOCK TABLE approval_request IN EXCLUSIVE MODE")
            yield
            await transaction.rollback()
        finally:
            await connection.close()
        return
    path = database_url.removeprefix("sqlite:///")
    locker = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)
    try:
        await anyio.to_thread.run_sync(locker.execute, "BEGIN IMMEDIATE")
        yield
        await anyio.to_thread.run_sync(locker.execute, "ROLLBACK")
    finally:
        locker.close()


async def test_killed_after_anaplan_answered_the_post_before_the_task_was_recorded_it_adopts_its_task(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        before = await listed_sync_tasks(bot, PROD)
        # The POST's answer is held 2 s; meanwhile the requests' writes are held back, so the answer
        # arrives (Anaplan logs the 201) while recording the task id waits: that is when serve dies.
        async with bot.serve() as first, anyio.create_task_group() as tg:
            assert (await first.slash("sync dev prod")).status_code == 200
            pending = await card_of(bot)
            await fault(bot, **(SYNC_POST | {"delay": 2.0}))
            await approve_in_background(tg, first, pending)
            await faults_taken(bot)
            await in_state(bot, pending.id, executing_without_task, "the sync POST in flight")
            async with writes_held(database_url):

                async def answered() -> bool:
                    return await bot.sync_posts(status=201) == 1

                await eventually(answered, "Anaplan to answer the POST")
                await first.kill()
        (task_id,) = set(await listed_sync_tasks(bot, PROD)) - set(before)
        unrecorded = await bot.store.get_request(pending.id)
        assert unrecorded is not None
        assert (unrecorded.state, unrecorded.anaplan_task_id) == ("executing", None)

        await settle_after_restart(bot, [pending.id], finish_tasks=True)
        done = await bot.store.get_request(pending.id)
        assert done is not None
        assert (done.state, done.anaplan_task_id) == ("succeeded", task_id)
        assert await bot.sync_posts(status=None) == 1
        await no_task_claimed_twice(bot)
