"""Socket Mode: the same app, reached over the websocket Slack opens when SLACK_APP_TOKEN is set."""

from __future__ import annotations

import pytest
from pydantic import SecretStr
from slack_stack import SlackStack, text_of

from alm_bot.errors import ConfigError
from alm_bot.slack import socket_mode_handler
from tools.fake_slack import slash_command_payload

pytestmark = pytest.mark.anyio


async def test_commands_arrive_and_are_answered_over_socket_mode(stack: SlackStack) -> None:
    settings = stack.services.settings.model_copy(update={"slack_app_token": SecretStr(stack.fake.app_token)})
    handler = socket_mode_handler(stack.app, settings)
    await handler.connect_async()
    try:
        ack = await stack.fake.socket_send(
            "slash_commands", slash_command_payload("help", response_url=stack.fake.response_url("sm-help"))
        )
        assert "/alm models [filter]" in text_of(ack["payload"])

        await stack.fake.socket_send(
            "slash_commands", slash_command_payload("latest prod", response_url=stack.fake.response_url("sm"))
        )
        assert "*Headcount planning*" in text_of(await stack.answer("sm"))
    finally:
        await handler.close_async()
    (opened,) = stack.fake.of("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {stack.fake.app_token}"


async def test_socket_mode_without_an_app_token_says_which_variable_is_missing(stack: SlackStack) -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        socket_mode_handler(stack.app, stack.services.settings)
