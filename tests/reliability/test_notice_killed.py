"""``kill -9`` of ``alm-bot serve`` while Slack is taking a notice: after the restart it appears once.

Slack is slow on purpose: the fake carries the message out at once — Slack has it — and holds the
answer (`FakeSlack.delay_next`). The process is killed while it waits, so its outbox row is not
marked sent and its outcome is unknown. The restarted process finds the message by its metadata —
in the channel's history (the card), the DM's history, the thread's replies — instead of posting it
a second time. Deterministic: the window is opened by the delay, not by luck.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from alm_bot.store import ApprovalRequest
from tests.live import WAIT
from tests.reliability.rig import APPROVALS, REQUESTER, Rig, Serve, rig
from tools.fake_slack_workspace import dm_channel_id

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASK_SECONDS = 600
HELD = 120  # seconds the slow Slack holds its answer: far longer than the test needs


def is_dm(params: dict[str, Any]) -> bool:
    return params.get("channel") == dm_channel_id(REQUESTER)


def is_card(params: dict[str, Any]) -> bool:
    return params.get("channel") == APPROVALS and not params.get("thread_ts")


def is_thread_reply(params: dict[str, Any]) -> bool:
    return params.get("channel") == APPROVALS and bool(params.get("thread_ts"))


async def card_posted(bot: Rig, first: Serve) -> ApprovalRequest:
    assert (await first.slash("sync dev prod")).status_code == 200
    return await bot.request_where(lambda r: r.card_ref is not None, "the approval card")


async def kill_while_posting_the_card(bot: Rig, first: Serve) -> None:
    assert (await first.slash("sync dev prod")).status_code == 200
    await bot.fake.wait_for("chat.postMessage", where=lambda c: is_card(c.params), timeout=2 * WAIT)


async def kill_while_telling_the_requester(bot: Rig, first: Serve) -> None:
    assert (await first.approve(await card_posted(bot, first))).status_code == 200
    await bot.fake.wait_for("chat.postMessage", where=lambda c: is_dm(c.params), timeout=2 * WAIT)


async def kill_while_replying_in_the_thread(bot: Rig, first: Serve) -> None:
    assert (await first.approve(await card_posted(bot, first))).status_code == 200
    await bot.request_where(lambda r: r.anaplan_task_id is not None, "the sync to start")
    await bot.advance(TASK_SECONDS + 1)
    await bot.fake.wait_for("chat.postMessage", where=lambda c: is_thread_reply(c.params), timeout=2 * WAIT)


WINDOWS = {
    "the approval card": (is_card, kill_while_posting_the_card, "conversations.history"),
    "a direct message": (is_dm, kill_while_telling_the_requester, "conversations.history"),
    "a reply in the card's thread": (
        is_thread_reply,
        kill_while_replying_in_the_thread,
        "conversations.replies",
    ),
}
# The restarted process must boot, connect to Slack and outlive the killed one's lease first.
AFTER_RESTART = 4 * WAIT


@pytest.mark.parametrize(("slow", "until_in_flight", "look_up"), list(WINDOWS.values()), ids=list(WINDOWS))
async def test_a_notice_in_flight_when_serve_is_killed_is_posted_once_after_the_restart(
    database_url: str,
    tmp_path: Path,
    slow: Callable[[dict[str, Any]], bool],
    until_in_flight: Callable[[Rig, Serve], Awaitable[None]],
    look_up: str,
) -> None:
    async with rig(tmp_path, database_url, task_duration=TASK_SECONDS) as bot:
        bot.fake.delay_next("chat.postMessage", HELD, where=slow)
        async with bot.serve() as first:
            await until_in_flight(bot, first)
            await first.kill()  # Slack has the message; alm-bot never heard back
        in_flight = bot.posts(lambda c: slow(c.params))
        assert len(in_flight) == 1
        unsent = [
            row for row in await bot.store.list_outbox(sent=False) if row.attempt_started_at is not None
        ]
        assert unsent, "the restart knows an attempt's outcome is unknown"

        async with bot.serve():
            await bot.fake.wait_for(look_up, timeout=AFTER_RESTART)  # asked Slack before posting again
            await bot.outbox_empty()
        # Both alm-bot processes have stopped: these counts are final.
        assert [c.params["text"] for c in bot.posts(lambda c: slow(c.params))].count(
            in_flight[0].params["text"]
        ) == 1
        assert bot.fake.repeated_posts() == []
        (request,) = await bot.store.list_requests()
        assert request.card_ref is not None
        assert request.card_ref.split()[1] == next(
            c.reply["ts"] for c in bot.posts(lambda c: is_card(c.params))
        )
