"""``kill -9`` of ``alm-bot serve`` while Slack is taking a notice: after the restart it appears once.

Slack is slow on purpose: the fake carries the direct message out at once — Slack has it — and holds
the answer (`FakeSlack.delay_next`). The process is killed while it waits, so its outbox row is not
marked sent and its outcome is unknown. The restarted process finds the message in the DM's history
by its metadata instead of posting it a second time. Deterministic: the window is opened by the
delay, not by luck.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.reliability.rig import REQUESTER, Rig, rig
from tools.fake_slack import Call
from tools.fake_slack_workspace import dm_channel_id

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASK_SECONDS = 600
HELD = 120  # seconds the slow Slack holds its answer: far longer than the test needs


def decided_dms(bot: Rig, request_id: str) -> list[Call]:
    return bot.posts(
        lambda c: (
            c.params.get("channel") == dm_channel_id(REQUESTER)
            and c.params.get("text") == f"Your request {request_id} was approved."
        )
    )


def repeated(bot: Rig) -> list[tuple[object, ...]]:
    """Messages (channel, thread, text) that Slack received more than once."""
    seen = Counter(
        (c.params.get("channel"), c.params.get("thread_ts"), c.params.get("text"))
        for c in bot.posts(lambda c: bool(c.reply.get("ok")))
    )
    return [message for message, times in seen.items() if times > 1]


async def test_a_dm_in_flight_when_serve_is_killed_is_posted_once_after_the_restart(
    database_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        dm = dm_channel_id(REQUESTER)
        bot.fake.delay_next("chat.postMessage", HELD, where=lambda params: params.get("channel") == dm)
        async with bot.serve() as first:
            assert (await first.slash("sync dev prod")).status_code == 200
            pending = await bot.request_where(lambda r: r.card_ref is not None, "the approval card")
            assert (await first.approve(pending)).status_code == 200
            await bot.fake.wait_for(
                "chat.postMessage", where=lambda c: c.params.get("channel") == dm, timeout=30
            )
            await first.kill()  # Slack has the DM; alm-bot never heard back

        assert len(decided_dms(bot, pending.id)) == 1
        (unsent,) = [row for row in await bot.store.list_outbox(sent=False) if row.kind == "request_decided"]
        assert unsent.attempt_started_at is not None  # the restart knows this outcome is unknown

        async with bot.serve():
            await bot.outbox_empty()
        # Both alm-bot processes have stopped: these counts are final.
        assert len(decided_dms(bot, pending.id)) == 1
        assert repeated(bot) == []
        assert bot.fake.of("conversations.history"), "the restarted process asked Slack first"
        assert await bot.sync_posts(status=None) == 1
