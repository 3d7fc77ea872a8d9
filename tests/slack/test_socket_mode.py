"""Socket Mode: the same app, reached over the websocket Slack opens when SLACK_APP_TOKEN is set."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from alm_bot.errors import ConfigError
from alm_bot.slack import socket_mode_handler
from tests.live import drain_bolt_listeners
from tests.world import World, text_of
from tools.fake_slack import slash_command_payload

pytestmark = pytest.mark.anyio


async def test_commands_arrive_and_are_answered_over_socket_mode(world: World) -> None:
    settings = world.services.settings.model_copy(update={"slack_app_token": SecretStr(world.fake.app_token)})
    handler = socket_mode_handler(world.app, settings)
    await handler.connect_async()
    try:
        ack = await world.fake.socket_send(
            "slash_commands", slash_command_payload("help", response_url=world.fake.response_url("sm-help"))
        )
        assert "/alm models [filter]" in text_of(ack["payload"])

        await world.fake.socket_send(
            "slash_commands", slash_command_payload("latest prod", response_url=world.fake.response_url("sm"))
        )
        assert "*Headcount planning*" in text_of(await world.answer("sm"))
    finally:
        await handler.close_async()
    (opened,) = world.fake.of("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {world.fake.app_token}"


async def test_socket_mode_without_an_app_token_says_which_variable_is_missing(world: World) -> None:
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
        socket_mode_handler(world.app, world.services.settings)


HELP = slash_command_payload("help", response_url="http://127.0.0.1:9/r")
MALFORMED: dict[str, tuple[str, Any]] = {
    "a command that is a string": ("slash_commands", "not-json"),
    "a command without its fields": ("slash_commands", {"command": "/alm"}),
    "a command whose text is a number": ("slash_commands", {**HELP, "text": 5}),
    "a command whose user is a list": ("slash_commands", {**HELP, "user_id": []}),
    "block actions without actions": (
        "interactive",
        {"type": "block_actions", "user": {"id": "U0APPROVER1"}, "actions": [], "trigger_id": "t"},
    ),
    "block actions whose user is a list": (
        "interactive",
        {"type": "block_actions", "user": [], "actions": [{"action_id": "alm_approve"}], "trigger_id": "t"},
    ),
    "a payload without a type": ("interactive", {"user": {"id": "U0APPROVER1"}}),
    "a form without its view": ("interactive", {"type": "view_submission", "user": {"id": "U0X"}}),
    "an event that is a list": ("events_api", {"type": "event_callback", "event": []}),
    "home opened by nobody": ("events_api", {"type": "event_callback", "event": {"type": "app_home_opened"}}),
    "a team that is a list": ("events_api", {"type": "event_callback", "team": [], "event": {"type": "x"}}),
    "a command field in an event": ("events_api", {"type": "event_callback", "command": "/alm"}),
    "an unknown envelope type": ("hello_there", {"type": "x"}),
}


@pytest.mark.parametrize(("envelope_type", "payload"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_malformed_socket_mode_envelope_is_acknowledged_and_never_reaches_a_listener(
    world: World, caplog: pytest.LogCaptureFixture, envelope_type: str, payload: Any
) -> None:
    settings = world.services.settings.model_copy(update={"slack_app_token": SecretStr(world.fake.app_token)})
    handler = socket_mode_handler(world.app, settings)
    await handler.connect_async()
    try:
        ack = await world.fake.socket_send(envelope_type, payload, envelope_id="env-bad")
        assert ack == {"envelope_id": "env-bad"}
        good = await world.fake.socket_send(
            "slash_commands", slash_command_payload("help", response_url=world.fake.response_url("sm"))
        )
        assert "/alm models [filter]" in text_of(good["payload"])
        await drain_bolt_listeners()
    finally:
        await handler.close_async()
    assert not [r for r in caplog.records if r.exc_info], [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert world.fake.of("chat.postMessage") == world.fake.of("chat.postEphemeral") == []
