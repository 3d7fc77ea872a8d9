"""Story: an assistant asks for a prod sync over MCP; a person approves in Slack; the assistant sees it done.

The assistant holds a bearer token mapped to its user's Slack id (``ALM_BOT_MCP_TOKENS``), so the
request is that person's: the card says it came "via assistant", and the four-eyes rule applies.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.slack.buttons import APPROVE
from tests.live import eventually, mcp_client
from tests.mcp.calls import ok
from tests.story_stack import APPROVER, MCP_TOKEN, REQUESTER, running, story_world
from tests.world import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_an_assistants_prod_sync_waits_for_a_slack_approval_then_reports_succeeded(
    tmp_path: Path,
) -> None:
    async with (
        story_world(tmp_path) as world,
        running(world) as bot,
        mcp_client(f"{bot.base_url}/mcp", MCP_TOKEN) as assistant,
    ):
        asked = await ok(assistant, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        assert asked["status"] == "awaiting_approval"
        request_id = asked["request_id"]

        card = await world.card()
        assert "via assistant" in text_of(card.params)
        assert world.sync_posts() == 0

        clicked = await bot.click(card, APPROVE, user=APPROVER)
        assert clicked.status_code == 200, clicked.text
        await bot.state_becomes(request_id, "executing")
        world.finish_anaplan_tasks()

        async def succeeded() -> bool:
            seen = await ok(assistant, "alm_get_request", {"request_id": request_id})
            return bool(seen["state"] == "succeeded")

        await eventually(succeeded, f"alm_get_request to show {request_id} succeeded")
        final = await ok(assistant, "alm_get_request", {"request_id": request_id})

    assert final["requester"]["id"] == REQUESTER
    assert final["origin"] == "mcp"
    assert final["decided_by"]["id"] == APPROVER
    assert world.sync_posts() == 1
