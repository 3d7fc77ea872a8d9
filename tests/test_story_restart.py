"""Story: alm-bot restarts after an approval while Anaplan is still syncing; the result is reported once.

Two consecutive app instances (services, watcher, Bolt app, MCP sessions: everything `alm-bot serve`
builds) run on the same SQLite file, against the same sandbox and fake Slack. Why in-process rather
than two ``alm-bot serve`` processes: a restart loses the process's memory, and a new instance starts
with none either, so it is a faithful restart; meanwhile the sandbox, like Anaplan, does not restart
with us and keeps the running sync, whose end the story brings about by moving the sandbox clock,
without sleeping. Killing the real process mid-sync is for the reliability tests; that SIGTERM gives
back the leases of a real process is checked in ``tests/test_serve.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.slack.buttons import APPROVE
from tests.live import eventually
from tests.story_stack import APPROVER, REQUESTER, Running, running, story_world

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def all_notices_sent(bot: Running) -> None:
    async def outbox_empty() -> bool:
        return not await bot.services.store.list_outbox(sent=False)

    await eventually(outbox_empty, "every notice in the outbox to be delivered")


async def test_a_sync_approved_before_a_restart_is_reported_once_by_the_next_instance(
    tmp_path: Path,
) -> None:
    async with story_world(tmp_path) as world:
        async with running(world) as first:
            await first.slash("sync dev prod", user=REQUESTER)
            card = await world.card()
            request = await first.only_request()
            await first.click(card, APPROVE, user=APPROVER)
            await first.state_becomes(request.id, "executing")
            await all_notices_sent(first)
        # The first instance is gone; Anaplan carries on and finishes the sync meanwhile.
        assert world.sync_posts() == 1
        assert not [c for c in world.fake.of("chat.postMessage") if "succeeded" in c.params.get("text", "")]
        world.finish_anaplan_tasks()

        async with running(world) as second:
            done = await second.state_becomes(request.id, "succeeded")
            await world.thread_replies(card, containing="succeeded")
            await world.direct_messages(REQUESTER, containing=f"Your request {request.id} succeeded")
            await all_notices_sent(second)
            finished = await second.services.store.list_tasks(request_id=request.id, state="finished")

    # Both instances have stopped: nothing more can arrive, so these counts are final.
    thread = [c for c in world.fake.of("chat.postMessage") if c.params.get("thread_ts") == card.reply["ts"]]
    finish_notices = [c for c in thread if c.params["text"].endswith(f"({request.id}): succeeded")]
    assert len(finish_notices) == 1
    dms = [c for c in world.fake.of("chat.postMessage") if "succeeded." in c.params.get("text", "")]
    assert [c.params["text"] for c in dms] == [f"Your request {request.id} succeeded."]
    assert world.sync_posts() == 1
    (sync,) = [t for t in finished if t.kind == "sync"]
    assert done.anaplan_task_id == sync.anaplan_task_id
