"""SlackNotifier: the watcher's deliveries reach Slack, survive Slack's failures and show the truth.

Driven through the watcher (the outbox) where possible; single notices are handed to the notifier
directly only for destinations the core does not produce on its own yet.
"""

from __future__ import annotations

import pytest
from slack_stack import APPROVALS, REQUESTER, SlackStack, text_of

from alm_bot.notify import CARD, Notice, channel_destination, user_destination
from alm_bot.records import ComparisonReady, RequestUpdated, TaskOutcome
from alm_bot.slack import SlackNotifier
from alm_bot.slack.notifier import CardNotPostedYet
from alm_bot.store import ApprovalRequest
from tests.legacy_rows import plan_from_flat

pytestmark = pytest.mark.anyio


def notifier(stack: SlackStack) -> SlackNotifier:
    return SlackNotifier(stack.app.client, stack.services.settings, stack.services.ops)


def cards_posted(stack: SlackStack) -> list[object]:
    return [
        c for c in stack.fake.of("chat.postMessage") if c.params["channel"] == APPROVALS and c.status == 200
    ]


async def pending_request(stack: SlackStack) -> ApprovalRequest:
    await stack.ask("sync dev prod")
    return await stack.only_request()


async def test_a_slack_outage_delays_the_card_but_never_loses_or_doubles_it(stack: SlackStack) -> None:
    stack.fake.fail_next("chat.postMessage", status=500)
    request = await pending_request(stack)
    await stack.settle()
    assert (await stack.request(request.id)).card_ref is None
    assert cards_posted(stack) == []

    stack.advance(60)
    await stack.settle()
    posted = await stack.request(request.id)
    assert len(cards_posted(stack)) == 1
    assert posted.card_ref is not None
    # The summary update that could not find the card earlier has been delivered since.
    assert "*Total:* 8 created, 5 modified" in text_of(stack.card(posted))


@pytest.mark.parametrize(("wait", "posted"), [(20, False), (31, True)])
async def test_a_rate_limited_card_is_retried_after_slacks_retry_after(
    stack: SlackStack, wait: int, posted: bool
) -> None:
    stack.fake.fail_next("chat.postMessage", status=429, retry_after=30)
    await pending_request(stack)
    await stack.settle()
    stack.advance(wait)
    await stack.settle()
    assert bool(cards_posted(stack)) is posted


async def test_a_card_notice_before_the_card_exists_is_refused_for_a_retry(stack: SlackStack) -> None:
    request = await pending_request(stack)
    notice = Notice(
        id=1, kind="request_updated", destination=CARD, payload={"request_id": request.id}, request=request
    )
    with pytest.raises(CardNotPostedYet):
        await notifier(stack).deliver(notice)
    assert stack.fake.of("chat.update") == []


async def test_a_repeated_approval_notice_redraws_the_card_instead_of_posting_another(
    stack: SlackStack,
) -> None:
    request = await pending_request(stack)
    await stack.settle()
    posted = await stack.request(request.id)
    again = Notice(id=99, kind="approval_needed", destination="approvals", payload={}, request=posted)
    receipt = await notifier(stack).deliver(again)
    assert receipt is not None
    assert receipt.card_ref == posted.card_ref
    assert len(cards_posted(stack)) == 1
    assert stack.fake.of("chat.update")[-1].params["ts"] == posted.card_ref.split()[1]


async def test_a_channel_destination_gets_a_message_about_the_request(stack: SlackStack) -> None:
    request = await pending_request(stack)
    notice = Notice(
        id=7,
        kind="request_updated",
        destination=channel_destination("C0OPS"),
        payload=RequestUpdated(request_id=request.id),
        request=request,
    )
    await notifier(stack).deliver(notice)
    (post,) = [c for c in stack.fake.of("chat.postMessage") if c.params["channel"] == "C0OPS"]
    assert f"*{request.id}*" in text_of(post.params)


async def test_a_notice_about_a_vanished_request_is_dropped_quietly(stack: SlackStack) -> None:
    notice = Notice(
        id=8,
        kind="request_updated",
        destination=user_destination(REQUESTER),
        payload=RequestUpdated(request_id="R000000"),
    )
    assert await notifier(stack).deliver(notice) is None
    assert stack.fake.calls == []


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
    stack: SlackStack, result: dict[str, object], expected: str
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
    await notifier(stack).deliver(notice)
    (dm,) = stack.fake.of("chat.postMessage")
    assert dm.params["channel"] == "D0REQUESTER"
    assert expected in text_of(dm.params)
    assert "Capex module of FP&A DEV compared with FP&A PROD" in text_of(dm.params)


async def test_a_requester_without_a_slack_id_gets_no_dm_and_the_notice_is_done(stack: SlackStack) -> None:
    request = await pending_request(stack)
    from_a_pipeline = request.model_copy(update={"requester_id": "deploy-pipeline"})
    notice = Notice(
        id=7,
        kind="request_decided",
        destination=user_destination("deploy-pipeline"),
        payload={"request_id": request.id},
        request=from_a_pipeline,
    )
    assert await notifier(stack).deliver(notice) is None
    assert stack.fake.of("conversations.open") == []
