"""Story: Slack is out of reach during an incident; an approver decides with the CLI instead (break-glass).

The decision goes through the same policy, but it is marked: the card says break-glass and who ran
the command (OS user and host beside the claimed ``--as``), the audit records it, and the card's
thread in the approvals channel asks the approvers to review what was decided outside Slack.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.actor import Actor
from alm_bot.errors import InvalidArgument
from tests.story_stack import APPROVER, REQUESTER, running, story_world
from tests.world import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

RUN_BY = "ada-ops@build-7"


async def test_a_decision_taken_with_the_cli_is_marked_audited_and_announced_for_review(
    tmp_path: Path,
) -> None:
    cli_approver = Actor(APPROVER, APPROVER, "cli", run_by=RUN_BY)
    async with story_world(tmp_path) as world, running(world) as bot:
        asked = await bot.slash("sync dev prod", user=REQUESTER)
        assert asked.status_code == 200, asked.text
        card = await world.card()
        request = await bot.only_request()

        with pytest.raises(InvalidArgument, match="break-glass"):
            await bot.services.ops.requests.decide(request.id, actor=cli_approver, approve=True)
        await bot.services.ops.requests.decide(
            request.id, actor=cli_approver, approve=True, reason="Slack is down"
        )
        (review,) = await world.thread_replies(card, containing="decided outside Slack")
        audit = await bot.services.store.list_audit(request_id=request.id)

    approved = next(event for event in audit if event.action == "approved")
    assert approved.origin == "cli"
    assert approved.detail["break_glass"] is True
    assert approved.detail["run_by"] == RUN_BY
    assert RUN_BY in text_of(review.params)
    assert "Slack is down" in text_of(review.params)
    card_now = text_of(world.fake.message(card.params["channel"], card.reply["ts"]) or {})
    assert f"break-glass (CLI, run by {RUN_BY})" in card_now
