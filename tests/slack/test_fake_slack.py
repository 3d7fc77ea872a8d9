"""The fake Slack (tools/fake_slack.py) behaves like Slack for the real slack_sdk / Bolt clients.

Driven through a real ``AsyncWebClient``, a real ``AsyncApp`` and a real ``AsyncSocketModeHandler``,
so a drift between the fake and what slack_sdk sends or expects shows up here first.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import anyio
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltRequest, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tools.fake_slack import (
    FakeSlack,
    block_actions_body,
    block_actions_payload,
    event_body,
    sign,
    slash_command_body,
    slash_command_payload,
    view_submission_body,
)

pytestmark = pytest.mark.anyio

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Sync* fpa-dev → fpa-prod"}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


def bolt_app(fake: FakeSlack) -> AsyncApp:
    return AsyncApp(client=AsyncWebClient(token=TOKEN, base_url=fake.api_url), signing_secret=SECRET)


# ---- chat ---------------------------------------------------------------------------------------


async def test_post_message_returns_the_channel_a_unique_increasing_ts_and_the_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    first = await client.chat_postMessage(channel="C0APPROVALS", text="card", blocks=[SECTION])
    second = await client.chat_postMessage(channel="C0APPROVALS", text="progress", thread_ts=first["ts"])

    assert first["channel"] == "C0APPROVALS"
    assert float(first["ts"]) < float(second["ts"])
    assert first["message"]["blocks"] == [SECTION]
    assert second["message"]["thread_ts"] == first["ts"]
    (call, _) = fake.of("chat.postMessage")
    assert call.params["blocks"] == [SECTION]
    assert call.headers["authorization"] == f"Bearer {TOKEN}"


async def test_post_message_without_text_or_blocks_fails_with_no_text(client: AsyncWebClient) -> None:
    # api_call: chat_postMessage itself would warn about the missing text before sending.
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("chat.postMessage", json={"channel": "C0APPROVALS"})

    assert raised.value.response["error"] == "no_text"


async def test_chat_update_replaces_the_text_and_blocks_of_the_stored_message(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    posted = await client.chat_postMessage(channel="C0APPROVALS", text="pending", blocks=[SECTION])

    await client.chat_update(channel="C0APPROVALS", ts=posted["ts"], text="Approved by grace", blocks=[])

    assert fake.message("C0APPROVALS", posted["ts"]) == {
        **posted["message"],
        "text": "Approved by grace",
        "blocks": [],
    }
    (update,) = fake.of("chat.update")
    assert update.params["ts"] == posted["ts"]


async def test_post_ephemeral_and_get_permalink_answer_with_the_fields_the_bot_reads(
    client: AsyncWebClient,
) -> None:
    ephemeral = await client.chat_postEphemeral(channel="C0APPROVALS", user="U0REQUESTER", text="not yours")
    link = await client.chat_getPermalink(channel="C0APPROVALS", message_ts="1700000000.000042")

    assert ephemeral["message_ts"]
    assert link["permalink"] == "https://fake-team.slack.com/archives/C0APPROVALS/p1700000000000042"


async def test_form_encoded_blocks_arrive_decoded_as_a_list(fake: FakeSlack, client: AsyncWebClient) -> None:
    # slack_sdk form-encodes some methods; blocks then travel as a JSON string.
    await client.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "t", "blocks": json.dumps([SECTION])}
    )

    (call,) = fake.of("chat.postMessage")
    assert call.params == {"channel": "C1", "text": "t", "blocks": [SECTION]}


# ---- views ------------------------------------------------------------------------------------


async def test_views_open_then_update_keeps_the_view_id(fake: FakeSlack, client: AsyncWebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "reject_reason",
        "title": {"type": "plain_text", "text": "Reject"},
    }

    opened = await client.views_open(trigger_id="3333.4444.action", view=modal)
    updated = await client.views_update(view_id=opened["view"]["id"], view={**modal, "callback_id": "done"})

    assert opened["view"]["callback_id"] == "reject_reason"
    assert updated["view"]["id"] == opened["view"]["id"]
    assert fake.workspace.views[opened["view"]["id"]]["callback_id"] == "done"
    assert fake.of("views.open")[0].params["view"] == modal


async def test_views_open_without_a_trigger_id_fails(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.views_open(trigger_id="", view={"type": "modal"})

    assert raised.value.response["error"] == "invalid_trigger_id"


async def test_views_publish_stores_the_home_tab_per_user(fake: FakeSlack, client: AsyncWebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}

    first = await client.views_publish(user_id="U0REQUESTER", view=home)
    again = await client.views_publish(user_id="U0REQUESTER", view={"type": "home", "blocks": []})

    assert again["view"]["id"] == first["view"]["id"]
    assert fake.workspace.home_tabs["U0REQUESTER"]["blocks"] == []


# ---- people ------------------------------------------------------------------------------------


async def test_users_info_returns_a_seeded_user_and_rejects_unknown_ones(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.add_user("U0GRACE", "grace", real_name="Grace Hopper", tz="America/New_York")

    user = (await client.users_info(user="U0GRACE"))["user"]
    with pytest.raises(SlackApiError) as raised:
        await client.users_info(user="U0NOBODY")

    assert (user["id"], user["name"], user["real_name"], user["tz"]) == (
        "U0GRACE",
        "grace",
        "Grace Hopper",
        "America/New_York",
    )
    assert user["profile"]["display_name"] == "grace"
    assert raised.value.response["error"] == "user_not_found"


async def test_usergroups_users_list_returns_the_seeded_members(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.usergroups["S0APPROVERS"] = ["U0GRACE", "U0ALAN"]

    members = await client.usergroups_users_list(usergroup="S0APPROVERS")
    with pytest.raises(SlackApiError) as raised:
        await client.usergroups_users_list(usergroup="S0UNKNOWN")

    assert members["users"] == ["U0GRACE", "U0ALAN"]
    assert raised.value.response["error"] == "no_such_subteam"


async def test_conversations_open_returns_a_dm_channel_that_messages_land_in(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    dm = (await client.conversations_open(users="U0REQUESTER"))["channel"]["id"]
    posted = await client.chat_postMessage(channel=dm, text="your sync finished")

    assert dm.startswith("D")
    assert fake.message(dm, posted["ts"]) is not None


# ---- files --------------------------------------------------------------------------------------


async def test_files_upload_v2_uploads_the_bytes_and_shares_the_file(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    done = await client.files_upload_v2(
        content=b"module,changes\nRevenue,3\n", filename="diff.csv", title="Diff", channel="C0APPROVALS"
    )

    assert [c.method for c in fake.calls] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    stored = fake.workspace.files[done["file"]["id"]]
    assert stored["content"] == b"module,changes\nRevenue,3\n"
    assert (stored["title"], stored["channel"]) == ("Diff", "C0APPROVALS")
    assert fake.of("upload")[0].body == stored["content"]


async def test_complete_upload_of_a_file_never_uploaded_fails(client: AsyncWebClient) -> None:
    url = await client.files_getUploadURLExternal(filename="a.txt", length=3)

    with pytest.raises(SlackApiError) as raised:
        await client.files_completeUploadExternal(files=[{"id": url["file_id"], "title": "a"}])

    assert raised.value.response["error"] == "file_not_found"


# ---- failures, auth, unknown methods --------------------------------------------------------------


async def test_a_rate_limit_surfaces_as_slack_api_error_with_retry_after(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="t")
    again = await client.chat_postMessage(channel="C1", text="t")

    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"
    assert raised.value.response["error"] == "ratelimited"
    assert again["ok"] is True


async def test_slack_sdk_retry_handlers_retry_a_rate_limit_and_a_server_error(fake: FakeSlack) -> None:
    no_wait = FixedValueRetryIntervalCalculator(fixed_internal=0)
    client = AsyncWebClient(
        token=TOKEN,
        base_url=fake.api_url,
        retry_handlers=[
            AsyncRateLimitErrorRetryHandler(),
            AsyncServerErrorRetryHandler(interval_calculator=no_wait),
        ],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=0)
    fake.fail_next("chat.update", status=500)

    await client.chat_postMessage(channel="C1", text="t")
    await client.chat_update(channel="C1", ts="1700000000.000001", text="u")

    assert [(c.method, c.status) for c in fake.calls] == [
        ("chat.postMessage", 429),
        ("chat.postMessage", 200),
        ("chat.update", 500),
        ("chat.update", 200),
    ]


async def test_an_ok_false_failure_is_served_the_given_number_of_times(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.fail_next("chat.postMessage", status=200, error="channel_not_found", times=2)

    errors = []
    for _ in range(2):
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel="C1", text="t")
        errors.append(raised.value.response["error"])

    assert errors == ["channel_not_found", "channel_not_found"]
    assert (await client.chat_postMessage(channel="C1", text="t"))["ok"] is True


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
async def test_a_wrong_or_missing_token_is_refused(fake: FakeSlack, token: str | None, error: str) -> None:
    client = AsyncWebClient(token=token, base_url=fake.api_url)

    with pytest.raises(SlackApiError) as raised:
        await client.chat_postMessage(channel="C1", text="t")

    assert raised.value.response["error"] == error
    assert fake.workspace.messages == {}


async def test_an_unknown_method_is_refused_and_recorded(fake: FakeSlack, client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.api_call("chat.scheduleMessage", json={"channel": "C1", "text": "t", "post_at": 1})

    assert raised.value.response["error"] == "unknown_method"
    assert fake.of("chat.scheduleMessage")[0].params["post_at"] == 1


async def test_auth_test_reports_the_bot_identity_and_scopes(client: AsyncWebClient) -> None:
    me = await client.auth_test()

    assert (me["user_id"], me["bot_id"], me["team_id"]) == ("U0ALMBOT", "B0ALMBOT", "T0TEAM")
    assert "usergroups:read" in me.headers["X-OAuth-Scopes"].split(",")


# ---- response_url and waiting --------------------------------------------------------------------


async def test_response_url_posts_are_recorded_per_name(fake: FakeSlack) -> None:
    await AsyncWebhookClient(fake.response_url("cmd1")).send(
        text="Request posted.", response_type="ephemeral"
    )

    assert fake.responses("cmd1")[0].params == {"text": "Request posted.", "response_type": "ephemeral"}
    assert fake.responses("other") == []


async def test_wait_for_returns_as_soon_as_enough_matching_calls_arrived(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    found: list[str] = []

    async def wait() -> None:
        calls = await fake.wait_for("chat.postMessage", count=2, where=lambda c: c.params["channel"] == "C1")
        found.extend(c.params["text"] for c in calls)

    async with anyio.create_task_group() as tg:
        tg.start_soon(wait)
        for channel, text in [("C1", "one"), ("C2", "elsewhere"), ("C1", "two")]:
            await client.chat_postMessage(channel=channel, text=text)

    assert found == ["one", "two"]


async def test_wait_for_gives_up_after_the_timeout_naming_the_calls_it_saw(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    await client.chat_postMessage(channel="C1", text="t")

    with pytest.raises(TimeoutError, match=r"'chat\.update'.*\['chat\.postMessage'\]"):
        await fake.wait_for("chat.update", timeout=0.05)


# ---- signed requests -------------------------------------------------------------------------------


def test_signatures_are_accepted_by_slack_sdk_and_tied_to_the_secret() -> None:
    body = slash_command_body("help", response_url="http://127.0.0.1:1/response/x")
    headers = sign(body, SECRET)

    assert SignatureVerifier(SECRET).is_valid_request(body, headers)
    assert not SignatureVerifier("another-secret").is_valid_request(body, headers)
    assert not SignatureVerifier(SECRET).is_valid_request(body + "&x=1", headers)


def test_a_signature_with_an_old_timestamp_is_refused_by_slack_sdk() -> None:
    body = slash_command_body("help", response_url="http://127.0.0.1:1/response/x")

    assert not SignatureVerifier(SECRET).is_valid_request(body, sign(body, SECRET, timestamp=1_000_000_000))


def test_body_builders_encode_forms_and_json_as_slack_does() -> None:
    command = parse_qs(slash_command_body("sync a b", response_url="http://r", user_id="U1"))
    action = json.loads(parse_qs(block_actions_body("approve", "v1:42", **_click()))["payload"][0])
    event = event_body({"type": "app_home_opened", "user": "U1", "tab": "home"})

    assert (command["text"], command["user_id"], command["command"]) == (["sync a b"], ["U1"], ["/alm"])
    assert action["actions"][0]["value"] == "v1:42"
    assert action["message"]["ts"] == "1700000000.000001"
    assert sign(event, SECRET)["Content-Type"] == "application/json"
    assert sign(slash_command_body("x", response_url="http://r"), SECRET)["Content-Type"].endswith(
        "urlencoded"
    )


def _click(**overrides: Any) -> dict[str, Any]:
    fields = {
        "user_id": "U0GRACE",
        "channel_id": "C0APPROVALS",
        "message_ts": "1700000000.000001",
        "response_url": "http://127.0.0.1:1/response/click",
    }
    return fields | overrides


async def test_bolt_accepts_the_signed_slash_command_and_responds_to_the_fake(fake: FakeSlack) -> None:
    app = bolt_app(fake)

    @app.command("/alm")
    async def alm(ack: AsyncAck, command: dict[str, str], respond: AsyncRespond) -> None:
        await ack()
        await respond(text=f"you said {command['text']}", response_type="ephemeral")

    body = slash_command_body("models", response_url=fake.response_url("cmd"))
    reply = await app.async_dispatch(AsyncBoltRequest(body=body, headers=sign(body, SECRET)))

    assert reply.status == 200
    (response,) = await fake.wait_for("response_url")
    assert response.params == {"text": "you said models", "response_type": "ephemeral"}
    assert len(fake.of("auth.test")) == 1


async def test_bolt_routes_a_signed_button_click_and_a_modal_submission(fake: FakeSlack) -> None:
    app = bolt_app(fake)
    seen: dict[str, Any] = {}

    @app.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any]) -> None:
        await ack()
        seen["click"] = (body["user"]["id"], body["actions"][0]["value"], body["message"]["ts"])

    @app.view("reject_reason")
    async def reason(ack: AsyncAck, view: dict[str, Any]) -> None:
        await ack()
        seen["reason"] = (view["state"]["values"]["reason"]["value"]["value"], view["private_metadata"])

    click = block_actions_body("approve", "v1:42", **_click(response_url=fake.response_url("click")))
    submit = view_submission_body(
        "reject_reason", {"reason": {"value": "not in freeze"}}, user_id="U0GRACE", private_metadata="req-42"
    )
    for body in (click, submit):
        assert (
            await app.async_dispatch(AsyncBoltRequest(body=body, headers=sign(body, SECRET)))
        ).status == 200

    assert seen == {"click": ("U0GRACE", "v1:42", "1700000000.000001"), "reason": ("not in freeze", "req-42")}


# ---- Socket Mode ------------------------------------------------------------------------------------


async def test_socket_mode_handler_connects_and_acks_alm_help_with_its_reply(fake: FakeSlack) -> None:
    app = bolt_app(fake)

    @app.command("/alm")
    async def alm(ack: AsyncAck, command: dict[str, str]) -> None:
        await ack(text=f"Usage: /alm help | models (you sent {command['text']!r})")

    handler = AsyncSocketModeHandler(app, app_token=fake.app_token)
    await handler.connect_async()
    try:
        ack = await fake.socket_send(
            "slash_commands", slash_command_payload("help", response_url=fake.response_url("sm"))
        )
    finally:
        await handler.close_async()

    assert ack == {"envelope_id": "env-1", "payload": {"text": "Usage: /alm help | models (you sent 'help')"}}
    (connect,) = fake.of("apps.connections.open")
    assert connect.headers["Authorization"] == f"Bearer {fake.app_token}"


async def test_socket_mode_delivers_a_button_click_whose_handler_calls_the_web_api(fake: FakeSlack) -> None:
    app = bolt_app(fake)

    @app.action("approve")
    async def approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_update(channel=body["channel"]["id"], ts=body["message"]["ts"], text="Approved")

    handler = AsyncSocketModeHandler(app, app_token=fake.app_token)
    await handler.connect_async()
    try:
        ack = await fake.socket_send("interactive", block_actions_payload("approve", "v1:42", **_click()))
        (update,) = await fake.wait_for("chat.update")
    finally:
        await handler.close_async()

    assert ack == {"envelope_id": "env-1"}
    assert (update.params["channel"], update.params["ts"]) == ("C0APPROVALS", "1700000000.000001")


async def test_apps_connections_open_refuses_the_bot_token(client: AsyncWebClient) -> None:
    with pytest.raises(SlackApiError) as raised:
        await client.apps_connections_open(app_token=TOKEN)

    assert raised.value.response["error"] == "invalid_auth"


async def test_socket_send_without_a_connected_client_times_out_saying_so(fake: FakeSlack) -> None:
    with pytest.raises(TimeoutError, match="no client connected"):
        await fake.socket_send("slash_commands", {"command": "/alm"}, timeout=0.05)


async def test_socket_send_of_an_envelope_no_listener_handles_times_out_saying_so(fake: FakeSlack) -> None:
    handler = AsyncSocketModeHandler(bolt_app(fake), app_token=fake.app_token)
    payload = slash_command_payload("help", response_url=fake.response_url("sm"))
    await handler.connect_async()
    try:
        with pytest.raises(TimeoutError, match="no ack"):
            await fake.socket_send("slash_commands", payload, timeout=0.2)
    finally:
        await handler.close_async()
