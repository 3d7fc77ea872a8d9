"""Slack refusing alm-bot's notices (spawns processes): each notice arrives once, when Slack recovers.

One ``alm-bot serve`` and an ``alm-bot sandbox`` process; the fake Slack answers the result notices
with 500s and a 429 (Retry-After) before it accepts them again.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.live import eventually
from tests.reliability.rig import REQUESTER, rig

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TASK_SECONDS = 600


async def test_results_refused_by_slack_with_500s_and_a_429_are_posted_once_when_slack_recovers(
    sqlite_url: str, tmp_path: Path
) -> None:
    async with rig(tmp_path, sqlite_url, task_duration=TASK_SECONDS) as bot, bot.serve() as serve:
        assert (await serve.slash("sync dev prod")).status_code == 200
        pending = await bot.request_where(lambda r: r.card_ref is not None, "the approval card")
        assert (await serve.approve(pending)).status_code == 200
        await bot.request_where(lambda r: r.state == "executing", "the sync to start")
        await bot.outbox_empty()
        bot.fake.fail_next("chat.postMessage", 500, times=3)
        bot.fake.fail_next("chat.postMessage", 429, retry_after=1)

        await bot.advance(TASK_SECONDS + 1)
        done = await bot.request_where(lambda r: r.state == "succeeded", "the request to succeed")
        await eventually(lambda: bool(bot.finished_replies(done, "succeeded")), "the thread reply")
        await eventually(lambda: bool(bot.finished_dms(done.id, REQUESTER, "succeeded")), "the DM")
        await bot.outbox_empty()
        refusals = [c.status for c in bot.fake.of("chat.postMessage") if c.status != 200]

    assert refusals == [500, 500, 500, 429]
    assert len(bot.finished_replies(done, "succeeded")) == 1
    assert len(bot.finished_dms(done.id, REQUESTER, "succeeded")) == 1
