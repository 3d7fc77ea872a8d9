"""SlackNotifier: the watcher's deliveries reach Slack, survive Slack's failures and show the truth.

Driven through the watcher (the outbox) where possible; single notices are handed to the notifier
directly only for destinations the core does not produce on its own yet.
"""

from __future__ import annotations

import pytest

from alm_bot.notify import CARD, Notice, channel_destination, user_destination
from alm_bot.records import ComparisonReady, RequestUpdated, TaskOutcome
from alm_bot.slack import SlackNotifier
from alm_bot.slack.notifier import CardNotPostedYet
from alm_bot.store import ApprovalRequest
from tests.legacy_rows import plan_from_flat
from tests.world import APPROVALS, REQUESTER, World, text_of

pytestmark = pytest.mark.anyio


def notifier(world: World) -> SlackNotifier:
    return SlackNotifier(world.app.client, world.services.settings, world.services.ops)


def cards_posted(world: World) -> list[object]:
    return [
        c for c in world.fake.of("chat.postMessage") if c.params["channel"] == APPROVALS and c.status == 200
    ]


async def pending_request(world: World) -> ApprovalRequest:
    await world.ask("sync dev prod")
    return await world.only_request()


async def test_a_slack_outage_delays_the_card_but_never_loses_or_doubles_it(world: World) -> None:
    world.fake.fail_next("chat.postMessage", status=500)
    request = await pending_request(world)
    await world.settle()
    assert (await world.request(request.id)).card_ref is None
    assert cards_posted(world) == []

    world.advance(60)
    await world.settle()
    posted = await world.request(request.id)
    assert len(cards_posted(world)) == 1
    assert posted.card_ref is not None
    # The summary update that could not find the card earlier has been delivered since.
    assert "*Total:* 8 created, 5 modified" in text_of(world.card(posted))


@pytest.mark.parametrize(("wait", "posted"), [(20, False), (31, True)])
async def test_a_rate_limited_card_is_retried_after_slacks_retry_after(
    world: World, wait: int, posted: bool
) -> None:
    world.fake.fail_next("chat.postMessage", status=429, retry_after=30)
    await pending_request(world)
    await world.settle()
    world.advance(wait)
    await world.settle()
    assert bool(cards_posted(world)) is posted


async def test_a_card_notice_before_the_card_exists_is_refused_for_a_retry(world: World) -> None:
    request = await pending_request(world)
    notice = Notice(
        id=1, kind="request_updated", destination=CARD, payload={"request_id": request.id}, request=request
    )
    with pytest.raises(CardNotPostedYet):
        await notifier(world).deliver(notice)
    assert world.fake.of("chat.update") == []


async def test_a_repeated_approval_notice_redraws_the_card_instead_of_posting_another(
    world: World,
) -> None:
    request = await pending_request(world)
    await world.settle()
    posted = await world.request(request.id)
    again = Notice(id=99, kind="approval_needed", destination="approvals", payload={}, request=posted)
    receipt = await notifier(world).deliver(again)
    assert receipt is not None
    assert receipt.card_ref == posted.card_ref
    assert len(cards_posted(world)) == 1
    assert world.fake.of("chat.update")[-1].params["ts"] == posted.card_ref.split()[1]


async def test_a_channel_destination_gets_a_message_about_the_request(world: World) -> None:
    request = await pending_request(world)
    notice = Notice(
        id=7,
        kind="request_updated",
        destination=channel_destination("C0OPS"),
        payload=RequestUpdated(request_id=request.id),
        request=request,
    )
    await notifier(world).deliver(notice)
    (post,) = [c for c in world.fake.of("chat.postMessage") if c.params["channel"] == "C0OPS"]
    assert f"*{request.id}*" in text_of(post.params)


async def test_a_notice_about_a_vanished_request_is_dropped_quietly(world: World) -> None:
    notice = Notice(
        id=8,
        kind="request_updated",
        destination=user_destination(REQUESTER),
        payload=RequestUpdated(request_id="R000000"),
    )
    assert await notifier(world).deliver(notice) is None
    assert world.fake.calls == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"successful": False, "title": "Report failed", "message": "Model busy"},
            "The comparison failed: Report failed — Model busy",
        ),
        (
            {
                "successful": True,
                "summary": {
                    "sourceRevisionId": "S",
                    "targetRevisionId": "T",
                    "totals": {},
                    "differences": {},
                },
            },
            "No structural differences.",
        ),
    ],
)
async def test_a_comparison_result_is_sent_to_whoever_asked(
    world: World, result: dict[str, object], expected: str
) -> None:
    flat = {
        "source_revision_name": "Capex module",
        "source_model_name": "FP&A DEV",
        "target_model_name": "FP&A PROD",
    }
    payload = ComparisonReady(
        task_kind="comparison_summary",
        model_id="0085E9ACE5F908A0582AA6F438CE70FC",
        task_id="T1",
        outcome=TaskOutcome.model_validate(result),
        plan=plan_from_flat("sync", flat),
    )
    notice = Notice(id=9, kind="comparison_ready", destination=user_destination(REQUESTER), payload=payload)
    await notifier(world).deliver(notice)
    (dm,) = world.fake.of("chat.postMessage")
    assert dm.params["channel"] == "D0REQUESTER"
    assert expected in text_of(dm.params)
    assert "Capex module of FP&A DEV compared with FP&A PROD" in text_of(dm.params)


async def test_a_requester_without_a_slack_id_gets_no_dm_and_the_notice_is_done(world: World) -> None:
    request = await pending_request(world)
    from_a_pipeline = request.model_copy(update={"requester_id": "deploy-pipeline"})
    notice = Notice(
        id=7,
        kind="request_decided",
        destination=user_destination("deploy-pipeline"),
        payload={"request_id": request.id},
        request=from_a_pipeline,
    )
    assert await notifier(world).deliver(notice) is None
    assert world.fake.of("conversations.open") == []
