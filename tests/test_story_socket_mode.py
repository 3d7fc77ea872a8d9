"""Story: a workspace without a public URL runs alm-bot in Socket Mode (SLACK_APP_TOKEN) and asks for help.

`serve`'s app opens the Socket Mode connection in its lifespan; the fake Slack pushes a slash command
envelope over the websocket, and the bot's acknowledgement carries the answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.story_stack import running, story_world
from tests.world import text_of
from tools.fake_slack import slash_command_payload

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_alm_help_is_answered_over_socket_mode_without_a_public_endpoint(tmp_path: Path) -> None:
    async with story_world(tmp_path, socket_mode=True) as world, running(world) as bot:
        ack = await world.fake.socket_send(
            "slash_commands", slash_command_payload("help", response_url=world.fake.response_url("help"))
        )
        over_http = await bot.http.post("/slack/events", content="")

    (opened,) = world.fake.of("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {world.fake.app_token}"
    help_text = text_of(ack["payload"])
    assert "/alm sync" in help_text
    assert "/alm help" in help_text
    assert over_http.status_code == 404  # Socket Mode: Slack never calls us over HTTP
