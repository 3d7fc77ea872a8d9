"""The fake Slack's message history, message metadata and slow answers, through a real slack_sdk client.

Shapes as Slack documents them: ``conversations.history`` lists a channel's top-level messages newest
first, ``conversations.replies`` a thread (parent first, then replies oldest first); both honour
``oldest``/``latest``/``inclusive``, paginate with ``response_metadata.next_cursor``, return message
``metadata`` only with ``include_all_metadata``, and need the history scope of the conversation.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tools.fake_slack import FakeSlack

pytestmark = pytest.mark.anyio

TOKEN = "xoxb-test"
METADATA = {"event_type": "alm_bot_notice", "event_payload": {"dedupe_key": "k-1"}}


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=TOKEN, base_url=fake.api_url)


async def test_message_ts_follow_the_clock_and_keep_increasing(client: AsyncWebClient) -> None:
    before = time.time()
    stamps = [float((await client.chat_postMessage(channel="C1", text=f"m{i}"))["ts"]) for i in range(3)]
    assert stamps == sorted(set(stamps))
    assert before - 1 <= stamps[0] <= time.time() + 1


async def test_history_lists_top_level_messages_newest_first_with_metadata_only_when_asked(
    client: AsyncWebClient,
) -> None:
    first = await client.chat_postMessage(channel="C1", text="card", metadata=METADATA)
    await client.chat_postMessage(channel="C1", text="reply", thread_ts=first["ts"])
    second = await client.chat_postMessage(channel="C1", text="later")
    await client.chat_postMessage(channel="C2", text="elsewhere")

    plain = await client.conversations_history(channel="C1")
    full = await client.conversations_history(channel="C1", include_all_metadata=True)

    assert [m["text"] for m in plain["messages"]] == ["later", "card"]
    assert "metadata" not in plain["messages"][1]
    assert full["messages"][1]["metadata"] == METADATA
    assert (plain["has_more"], plain["response_metadata"]["next_cursor"]) == (False, "")
    assert full["messages"][0]["ts"] == second["ts"]


async def test_history_honours_the_window_and_paginates(client: AsyncWebClient) -> None:
    stamps = [(await client.chat_postMessage(channel="C1", text=f"m{i}"))["ts"] for i in range(5)]

    after_first = await client.conversations_history(channel="C1", oldest=stamps[0])
    from_first = await client.conversations_history(channel="C1", oldest=stamps[0], inclusive=True)
    page = await client.conversations_history(channel="C1", limit=2)
    rest = await client.conversations_history(
        channel="C1", limit=10, cursor=page["response_metadata"]["next_cursor"]
    )

    assert len(after_first["messages"]) == 4
    assert len(from_first["messages"]) == 5
    assert [m["text"] for m in page["messages"]] == ["m4", "m3"]
    assert page["has_more"] is True
    assert [m["text"] for m in rest["messages"]] == ["m2", "m1", "m0"]
    assert rest["has_more"] is False


async def test_replies_list_a_thread_parent_first_with_its_metadata(client: AsyncWebClient) -> None:
    parent = await client.chat_postMessage(channel="C1", text="card")
    reply = await client.chat_postMessage(
        channel="C1", text="done", thread_ts=parent["ts"], metadata=METADATA
    )
    await client.chat_postMessage(channel="C1", text="other")

    thread = await client.conversations_replies(channel="C1", ts=parent["ts"], include_all_metadata=True)

    assert [m["text"] for m in thread["messages"]] == ["card", "done"]
    assert thread["messages"][1]["ts"] == reply["ts"]
    assert thread["messages"][1]["metadata"] == METADATA
    with pytest.raises(SlackApiError, match="thread_not_found"):
        await client.conversations_replies(channel="C1", ts="1.000001")


async def test_reading_history_needs_the_scope_of_the_conversation(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.workspace.scopes = ("chat:write", "channels:history")
    dm = (await client.conversations_open(users="U0REQUESTER"))["channel"]["id"]
    await client.conversations_history(channel="C1")

    with pytest.raises(SlackApiError) as refused:
        await client.conversations_history(channel=dm)

    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "im:history"


async def test_a_slow_answer_comes_late_but_slack_has_the_message_at_once(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    fake.delay_next("chat.postMessage", 30, where=lambda params: params.get("channel") == "D0REQUESTER")
    fast = await client.chat_postMessage(channel="C1", text="fast")  # not matched: answered at once

    async def post_slowly() -> None:
        await client.chat_postMessage(channel="D0REQUESTER", text="slow")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(post_slowly)
        (call,) = await fake.wait_for(
            "chat.postMessage", where=lambda c: c.params["channel"] == "D0REQUESTER"
        )
        history = await client.conversations_history(channel="D0REQUESTER")
        tasks.cancel_scope.cancel()  # the bot gives up (or dies) before the answer

    assert fast["ok"]
    assert call.reply["ok"]
    assert [m["text"] for m in history["messages"]] == ["slow"]
