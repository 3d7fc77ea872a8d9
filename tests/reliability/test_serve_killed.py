"""``kill -9`` of ``alm-bot serve`` (spawns processes): the restarted process reports, exactly once.

Anaplan is an ``alm-bot sandbox`` process of its own, so it keeps running the sync while alm-bot is
dead; its tasks run 600 s of its clock, which the test moves to finish them, so nothing depends on
how fast the machine is. The configuration gives the watcher a 3 s lease, so the killed process's
claims lapse soon (as they would after 60 s in production).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import eventually
from tests.reliability.rig import REQUESTER, Rig, rig
from tools.fake_slack import Call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASK_SECONDS = 600


async def polled(bot: Rig, task_id: str) -> bool:
    """Whether alm-bot has asked Anaplan about the task since starting it."""
    path = f"/syncTasks/{task_id}"
    return any(e["method"] == "GET" and e["path"].endswith(path) for e in await bot.anaplan_requests())


async def test_a_serve_killed_mid_sync_reports_the_result_once_after_a_restart(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, sqlite_url, task_duration=TASK_SECONDS) as bot:
        async with bot.serve() as first:
            assert (await first.slash("sync dev prod")).status_code == 200
            pending = await bot.request_where(lambda r: r.card_ref is not None, "the approval card")
            assert (await first.approve(pending)).status_code == 200
            running = await bot.request_where(
                lambda r: r.state == "executing" and r.anaplan_task_id is not None, "the sync to start"
            )
            task_id = str(running.anaplan_task_id)
            await eventually(lambda: polled(bot, task_id), "the watcher to poll the task")
            await first.kill()

        assert await bot.sync_posts() == 1
        assert not bot.finished_replies(running, "succeeded")
        await bot.advance(TASK_SECONDS + 1)  # Anaplan finishes the sync while alm-bot is down

        async with bot.serve():
            done = await bot.request_where(lambda r: r.state == "succeeded", "the request to succeed")
            await eventually(lambda: bool(bot.finished_replies(done, "succeeded")), "the thread reply")
            await bot.outbox_empty()
        # Both alm-bot processes have stopped: these counts are final.
        assert await bot.sync_posts(status=None) == 1
        assert len(bot.finished_replies(done, "succeeded")) == 1
        assert len(bot.finished_dms(done.id, REQUESTER, "succeeded")) == 1


async def test_notices_waiting_in_the_outbox_when_serve_is_killed_are_delivered_once_after_a_restart(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, sqlite_url, task_duration=TASK_SECONDS) as bot:
        async with bot.serve() as first:
            assert (await first.slash("sync dev prod")).status_code == 200
            pending = await bot.request_where(lambda r: r.card_ref is not None, "the approval card")
            assert (await first.approve(pending)).status_code == 200
            await bot.request_where(lambda r: r.state == "executing", "the sync to start")
            await bot.outbox_empty()
            # Slack turns the result away (thread reply and DM) and asks for 5 s of quiet: the
            # notices are still in the outbox when the process dies.
            bot.fake.fail_next("chat.postMessage", 429, retry_after=5, times=2)
            await bot.advance(TASK_SECONDS + 1)
            done = await bot.request_where(lambda r: r.state == "succeeded", "the result to be recorded")
            await eventually(lambda: len(refused(bot)) == 2, "Slack to refuse both result notices")
            await first.kill()

        async with bot.serve():
            await eventually(lambda: bool(bot.finished_replies(done, "succeeded")), "the thread reply")
            await bot.outbox_empty()
        # Both alm-bot processes have stopped: these counts are final.
        assert await bot.sync_posts(status=None) == 1
        assert len(bot.finished_replies(done, "succeeded")) == 1
        assert len(bot.finished_dms(done.id, REQUESTER, "succeeded")) == 1


def refused(bot: Rig) -> list[Call]:
    return [c for c in bot.fake.of("chat.postMessage") if c.status == 429]
