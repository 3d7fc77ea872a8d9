"""A notice whose delivery was interrupted appears once: Slack is asked before it is posted again.

Slack is slow on purpose (`FakeSlack.delay_next`: the message is posted, the answer comes late) and
the watcher's Slack client gives up first, so the attempt's outcome is unknown — as after a crash
mid-call. The next attempt finds the message by its metadata in the channel's history, the DM's
history or the thread's replies, and does not post it again. Each message (channel, thread, text)
appears once in the fake Slack's log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.slack import SlackNotifier
from alm_bot.slack.card_ref import card_location
from alm_bot.slack.once import NOTICE_EVENT
from alm_bot.watcher import Watcher
from tests.world import APPROVALS, APPROVER, BOT_TOKEN, REQUESTER, WAIT, World, card_payload
from tools.fake_slack import Call

pytestmark = pytest.mark.anyio

GIVE_UP = 0.5  # the impatient client's timeout; Slack answers SLOW seconds late
SLOW = 2.0


def impatient_watcher(world: World) -> Watcher:
    """A watcher whose Slack client times out long before the slow Slack answers."""
    client = AsyncWebClient(token=BOT_TOKEN, base_url=world.fake.api_url, timeout=GIVE_UP)
    notifier = SlackNotifier(client, world.services.settings, world.services.ops)
    return Watcher(world.services.ops.watching, notifier, clock=world.clock.now)


async def settle(watcher: Watcher) -> None:
    with anyio.fail_after(WAIT):
        while True:
            report = await watcher.tick()
            if not (report.expired or report.polled or report.delivered or report.busy):
                return


def posted(world: World) -> list[Call]:
    return [c for c in world.fake.of("chat.postMessage") if c.status == 200 and c.reply.get("ok")]


async def approved_and_done(world: World, watcher: Watcher) -> str:
    """Ada asks, the card is posted, Grace approves, the sync finishes (task duration 0)."""
    await world.ask("sync dev prod")
    await settle(watcher)
    request = await world.only_request()
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    return request.id


SLOW_POSTS: dict[str, Callable[[dict[str, Any]], bool]] = {
    "the approval card": lambda p: p.get("channel") == APPROVALS and not p.get("thread_ts"),
    "a direct message": lambda p: str(p.get("channel")).startswith("D"),
    "a reply in the card's thread": lambda p: bool(p.get("thread_ts")),
}


@pytest.mark.parametrize("slow", list(SLOW_POSTS.values()), ids=list(SLOW_POSTS))
async def test_a_post_that_timed_out_after_slack_took_it_is_not_posted_again(
    world: World, slow: Callable[[dict[str, Any]], bool]
) -> None:
    watcher = impatient_watcher(world)
    world.fake.delay_next("chat.postMessage", SLOW, where=slow)
    request_id = await approved_and_done(world, watcher)
    for _ in range(4):  # the timed-out notice is retried after its backoff
        await settle(watcher)
        world.advance(5)
    await settle(watcher)

    assert await world.services.store.list_outbox(sent=False) == []
    assert any(slow(c.params) for c in posted(world))
    assert world.fake.repeated_posts() == []
    done = await world.request(request_id)
    assert done.state == "succeeded"
    card = card_location(done)
    assert card is not None
    assert card.ts == next(c.reply["ts"] for c in posted(world) if c.params["channel"] == APPROVALS)
    looked_up = world.fake.of("conversations.history") + world.fake.of("conversations.replies")
    assert looked_up, "the retry asked Slack first"
    assert all(c.params.get("include_all_metadata") in ("1", "true", True) for c in looked_up)


async def test_every_posted_notice_carries_its_dedupe_key_in_the_message_metadata(world: World) -> None:
    await approved_and_done(world, world.watcher)
    await world.settle()
    keys = [c.params["metadata"]["event_payload"]["dedupe_key"] for c in posted(world)]
    assert all(c.params["metadata"]["event_type"] == NOTICE_EVENT for c in posted(world))
    outbox = {row.dedupe_key for row in await world.services.store.list_outbox(sent=True)}
    assert keys
    assert set(keys) <= outbox
    assert len(keys) == len(set(keys))
    # Nothing was interrupted, so nothing had to be looked up.
    assert world.fake.of("conversations.history") == world.fake.of("conversations.replies") == []


async def test_a_refusal_by_slack_means_nothing_was_posted_and_the_retry_asks_nothing(
    world: World,
) -> None:
    world.fake.fail_next("chat.postMessage", status=200, error="not_in_channel")
    await world.ask("sync dev prod")
    await world.settle()
    world.advance(5)
    await world.settle()
    assert len(posted(world)) == 1
    assert world.fake.of("conversations.history") == []


async def test_without_the_history_scope_an_interrupted_dm_is_posted_again_and_that_is_said_once(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    world.fake.workspace.scopes = tuple(s for s in world.fake.workspace.scopes if s != "im:history")
    watcher = impatient_watcher(world)
    world.fake.delay_next("chat.postMessage", SLOW, where=SLOW_POSTS["a direct message"])
    await approved_and_done(world, watcher)
    for _ in range(4):
        await settle(watcher)
        world.advance(5)
    await settle(watcher)

    decided = [
        c
        for c in posted(world)
        if c.params["channel"] == f"D{REQUESTER[1:]}" and "approved" in c.params["text"]
    ]
    assert len(decided) == 2  # at least once: the look-up was impossible
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "im:history" in r.getMessage()]
    assert len(warnings) == 1


def shared_reports(world: World, channel: str) -> list[dict[str, Any]]:
    """Messages in ``channel`` that share a file, as Slack's history holds them."""
    return [m for (c, _), m in world.fake.workspace.messages.items() if c == channel and m.get("files")]


async def test_a_report_upload_that_timed_out_after_slack_shared_it_is_not_uploaded_again(
    world: World,
) -> None:
    watcher = impatient_watcher(world)
    world.fake.delay_next("files.completeUploadExternal", SLOW)
    await world.ask("compare dev prod --full")
    for _ in range(4):  # the timed-out notice is retried after its backoff
        await settle(watcher)
        world.advance(5)
    await settle(watcher)

    assert await world.services.store.list_outbox(sent=False) == []
    assert len(world.fake.of("files.completeUploadExternal")) == 1
    (share,) = shared_reports(world, f"D{REQUESTER[1:]}")
    assert share["files"][0]["name"] == "comparison-dev-prod-capex-module.txt"
    assert world.fake.of("conversations.history"), "the retry asked Slack first"


async def test_a_report_upload_slack_refused_is_uploaded_again_and_shared_once(world: World) -> None:
    world.fake.fail_next("files.completeUploadExternal", status=500)
    await world.ask("compare dev prod --full")
    for _ in range(3):
        await world.settle()
        world.advance(5)
    await world.settle()

    assert await world.services.store.list_outbox(sent=False) == []
    assert len(world.fake.of("files.getUploadURLExternal")) == 2
    assert len(shared_reports(world, f"D{REQUESTER[1:]}")) == 1
