"""Story: a model builder asks in Slack to sync dev into prod; a second person approves; it is done.

Everything runs for real over HTTP through `alm-bot serve`'s app: signed requests from "Slack", the
card and notices as the fake Slack received them, the Anaplan sandbox doing the sync, and the
watcher in the app's lifespan noticing the end.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.slack.buttons import APPROVE
from tests.story_stack import APPROVER, REQUESTER, running, story_world
from tests.world import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_prod_sync_asked_in_slack_is_approved_by_a_second_person_and_reported_done(
    tmp_path: Path,
) -> None:
    async with story_world(tmp_path) as world, running(world) as bot:
        asked = await bot.slash("sync dev prod", user=REQUESTER)
        assert asked.status_code == 200, asked.text

        card = await world.card()
        request = await bot.only_request()
        assert request.state == "pending"
        assert request.id in text_of(card.params)
        assert world.sync_posts() == 0  # nothing changes in prod before someone approves

        clicked = await bot.click(card, APPROVE, user=APPROVER)
        assert clicked.status_code == 200, clicked.text
        executing = await bot.state_becomes(request.id, "executing")
        assert executing.decided_by_id == APPROVER

        world.finish_anaplan_tasks()
        done = await bot.state_becomes(request.id, "succeeded")
        (notice,) = await world.thread_replies(card, containing="succeeded")
        (dm,) = await world.direct_messages(REQUESTER, containing=f"Your request {request.id} succeeded")

    assert world.sync_posts() == 1
    assert done.anaplan_task_id is not None
    assert request.id in notice.params["text"]
    final_card = text_of(world.fake.message(card.params["channel"], card.reply["ts"]) or {})
    assert f"Approved by <@{APPROVER}>" in final_card
    assert "Succeeded" in final_card
    assert dm.params["text"] == f"Your request {request.id} succeeded."
