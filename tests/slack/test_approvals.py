"""The approval card and its buttons, end to end: approve, reject, expire, cancel, and every refusal.

A sync into FP&A PROD (protected) is requested by Ada; Grace and Linus are the approvers, Mallory
is neither. Clicks are signed block_actions posted to the real app; the card is what the fake
Slack holds after the watcher delivered the outbox.
"""

from __future__ import annotations

from pathlib import Path

import anyio
import httpx2
import pytest

from alm_bot.slack.card_ref import CardLocation, card_location
from alm_bot.store import ApprovalRequest
from tests.world import (
    APPROVALS,
    APPROVER,
    OUTSIDER,
    REQUESTER,
    SECOND_APPROVER,
    World,
    button_values,
    card_payload,
    open_world,
    text_of,
)

pytestmark = pytest.mark.anyio


def card_ts(request: ApprovalRequest) -> str | None:
    posted = card_location(request)
    return posted.ts if posted else None


async def requested_with_card(world: World, *, user: str = REQUESTER) -> ApprovalRequest:
    """Ada asks for dev → prod; the watcher posts the card."""
    await world.ask("sync dev prod", user=user)
    await world.settle()
    request = await world.only_request()
    assert card_location(request) is not None
    return request


async def refused(world: World, request: ApprovalRequest, user: str, action: str = "alm_approve") -> str:
    """Click as ``user``; return the private explanation they got."""
    before = len(world.ephemerals(user))
    reply = await world.click(action, card_payload(request.id), user=user, request=request)
    assert reply.status_code == 200
    calls = await world.fake.wait_for(
        "chat.postEphemeral", count=before + 1, where=lambda c: c.params.get("user") == user
    )
    assert calls[-1].params["channel"] == APPROVALS
    return text_of(calls[-1].params)


async def test_the_posted_card_shows_what_will_change_and_offers_both_buttons(world: World) -> None:
    request = await requested_with_card(world)
    card = world.card(request)
    shown = text_of(card)
    assert "Sync FP&A DEV → FP&A PROD" in shown
    assert "requested by <@U0REQUESTER>" in shown
    assert "*Revision*\n*Capex module*\nCapital expenditure planning." in shown
    assert "• Line items: 5 created, 2 modified" in shown
    assert set(button_values(card)) == {"alm_approve", "alm_reject"}
    assert button_values(card)["alm_approve"] == f'{{"v":1,"request":"{request.id}"}}'


async def test_approve_syncs_updates_the_card_replies_in_its_thread_and_tells_the_requester(
    world: World,
) -> None:
    request = await requested_with_card(world)
    reply = await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    assert reply.status_code == 200
    assert reply.text == ""  # acknowledged at once, nothing said in public
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    await world.settle()
    done = await world.request(request.id)
    assert done.state == "succeeded"
    assert done.decided_by_name == "grace"
    assert world.sync_posts() == 1

    card = text_of(world.card(done))
    assert "Approved by <@U0APPROVER1>" in card
    assert "Succeeded: FP&amp;A PROD now has revision Capex module." in card
    assert button_values(world.card(done)) == {}

    thread = [c for c in world.fake.of("chat.postMessage") if c.params.get("thread_ts") == card_ts(done)]
    assert len(thread) == 3  # the outcome, the verification after it, the release notes
    assert "Succeeded" in text_of(thread[0].params)
    assert "Verified: FP&amp;A PROD is at *Capex module*" in text_of(thread[1].params)
    assert "*Release notes: Capex module → FP&amp;A PROD*" in text_of(thread[2].params)

    dms = [
        text_of(c.params) for c in world.fake.of("chat.postMessage") if c.params["channel"] == "D0REQUESTER"
    ]
    assert any("<@U0APPROVER1> approved your request" in t for t in dms)
    assert any(f"Your request *{done.id}*" in t and "succeeded" in t for t in dms)
    assert world.ephemerals(APPROVER) == []


async def test_approve_shows_syncing_on_the_card_while_anaplan_works(tmp_path: Path) -> None:
    async with open_world(tmp_path, task_duration=10) as world:
        request = await requested_with_card(world)
        world.advance(10)  # the comparison summary finishes
        await world.settle()
        assert "computing" not in text_of(world.card(await world.request(request.id)))
        await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
        await world.eventually(lambda: world.has_task(request.id), "the sync to start")
        await world.settle()
        syncing = await world.request(request.id)
        assert syncing.state == "executing"
        assert "Approved by <@U0APPROVER1> at" in text_of(world.card(syncing))
        assert "· syncing" in text_of(world.card(syncing))

        world.advance(5)
        await world.settle()
        thread = [
            c for c in world.fake.of("chat.postMessage") if c.params.get("thread_ts") == card_ts(syncing)
        ]
        assert any(text_of(c.params).startswith("🔄") for c in thread), "a progress reply in the thread"

        world.advance(10)
        await world.settle()
        assert (await world.request(request.id)).state == "succeeded"


async def test_the_card_says_computing_until_the_change_summary_arrives(tmp_path: Path) -> None:
    async with open_world(tmp_path, task_duration=10) as world:
        request = await requested_with_card(world)
        assert "⏳ computing…" in text_of(world.card(request))
        world.advance(10)
        await world.settle()
        refreshed = text_of(world.card(await world.request(request.id)))
        assert "computing" not in refreshed
        assert "*Total:* 8 created, 5 modified" in refreshed


async def test_reject_asks_for_a_reason_and_the_card_shows_it(world: World) -> None:
    request = await requested_with_card(world)
    await world.click("alm_reject", card_payload(request.id), user=APPROVER, request=request)
    (opened,) = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert opened.params["trigger_id"].startswith("3333.4444.action.")  # the click's own
    assert view["callback_id"] == "alm_reject_reason"
    assert view["private_metadata"] == card_payload(request.id)

    empty = await world.submit(
        "alm_reject_reason",
        {"reason": {"value": "   "}},
        user=APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert empty.json()["response_action"] == "errors"
    assert "needs a reason" in empty.json()["errors"]["reason"]
    assert (await world.request(request.id)).state == "pending"

    done = await world.submit(
        "alm_reject_reason",
        {"reason": {"value": "Not before the Q3 close."}},
        user=APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert done.status_code == 200
    assert done.text == ""  # the modal closes
    rejected = await world.request(request.id)
    assert rejected.state == "rejected"
    assert rejected.reason == "Not before the Q3 close."
    await world.settle()
    card = text_of(world.card(rejected))
    assert "Rejected by <@U0APPROVER1>" in card
    assert "\n> Not before the Q3 close." in card
    assert button_values(world.card(rejected)) == {}
    dm = [c for c in world.fake.of("chat.postMessage") if c.params["channel"] == "D0REQUESTER"]
    assert "rejected your request" in text_of(dm[-1].params)
    assert world.sync_posts() == 0


async def test_an_expired_request_says_expired_and_its_buttons_explain_why_they_do_nothing(
    world: World,
) -> None:
    request = await requested_with_card(world)
    world.advance(25 * 3600)
    await world.settle()
    expired = await world.request(request.id)
    assert expired.state == "expired"
    card = text_of(world.card(expired))
    assert "*EXPIRED*" in card
    assert "reject" not in card.casefold()
    dm = [c for c in world.fake.of("chat.postMessage") if c.params["channel"] == "D0REQUESTER"]
    assert "*EXPIRED*" in text_of(dm[-1].params)

    updates = len(world.fake.of("chat.update"))
    assert "EXPIRED" in await refused(world, expired, APPROVER)
    await world.settle()
    assert len(world.fake.of("chat.update")) == updates
    assert world.sync_posts() == 0


async def test_a_non_approver_is_told_why_and_the_card_stays(world: World) -> None:
    request = await requested_with_card(world)
    updates = len(world.fake.of("chat.update"))
    told = await refused(world, request, OUTSIDER)
    assert "You are not an approver" in told
    assert "Who can approve: <@U0APPROVER1> or <@U0APPROVER2>" in told  # mentions, not escaped text
    assert "You are not an approver" in await refused(world, request, OUTSIDER, "alm_reject")
    await world.settle()
    assert (await world.request(request.id)).state == "pending"
    assert len(world.fake.of("chat.update")) == updates
    assert world.fake.of("views.open") == []


async def test_an_approver_cannot_approve_their_own_request(world: World) -> None:
    request = await requested_with_card(world, user=APPROVER)
    updates = len(world.fake.of("chat.update"))
    told = await refused(world, request, APPROVER)
    assert "someone else must approve" in told
    assert f"To withdraw it: `/alm cancel {request.id}`" in told
    await world.settle()
    assert (await world.request(request.id)).state == "pending"
    assert len(world.fake.of("chat.update")) == updates


async def test_a_click_after_the_decision_says_who_decided(world: World) -> None:
    request = await requested_with_card(world)
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    await world.settle()
    updates = len(world.fake.of("chat.update"))
    assert "already approved by grace" in await refused(world, request, SECOND_APPROVER)
    assert "already approved by grace" in await refused(world, request, SECOND_APPROVER, "alm_reject")
    await world.settle()
    assert len(world.fake.of("chat.update")) == updates
    assert world.sync_posts() == 1


async def test_a_button_from_another_release_is_explained(world: World) -> None:
    request = await requested_with_card(world)
    await world.click("alm_approve", card_payload(request.id, version=0), user=APPROVER, request=request)
    (note,) = await world.fake.wait_for("chat.postEphemeral")
    assert "This button is from an older alm-bot; use /alm requests" in text_of(note.params)
    assert (await world.request(request.id)).state == "pending"


async def test_twenty_simultaneous_approvals_sync_once_and_tell_the_other_nineteen(tmp_path: Path) -> None:
    approvers = [f"U0APPR{i:02d}" for i in range(20)]
    approval = {"approvers": [], "approver_groups": ["S0APPROVERS"]}
    async with open_world(tmp_path, approval=approval) as world:
        world.fake.usergroups["S0APPROVERS"] = approvers
        for user in approvers:
            world.fake.add_user(user, user.lower())
        request = await requested_with_card(world)

        replies: list[httpx2.Response] = []

        async def click(user: str) -> None:
            replies.append(
                await world.click("alm_approve", card_payload(request.id), user=user, request=request)
            )

        async with anyio.create_task_group() as clicks:
            for user in approvers:
                clicks.start_soon(click, user)

        assert [r.status_code for r in replies] == [200] * 20
        notes = await world.fake.wait_for("chat.postEphemeral", count=19)
        await world.eventually(lambda: world.has_task(request.id), "the sync to start")
        await world.settle()
        winner = await world.request(request.id)
        assert winner.state == "succeeded"
        assert world.sync_posts() == 1
        assert len(notes) == 19
        assert {c.params["user"] for c in notes} == set(approvers) - {winner.decided_by_id}
        texts = [text_of(c.params) for c in notes]
        wrong = [t for t in texts if f"already approved by {winner.decided_by_name}" not in t]
        assert wrong == []


async def test_buttons_keep_working_after_a_restart(tmp_path: Path) -> None:
    async with open_world(tmp_path) as before:
        request = await requested_with_card(before)
        value = button_values(before.card(request))["alm_approve"]
    async with open_world(tmp_path) as after:  # a new process: new app, caches and watcher; same database
        await after.click("alm_approve", value, user=APPROVER, request=request)
        await after.eventually(lambda: after.has_task(request.id), "the sync to start")
        await after.settle()
        assert (await after.request(request.id)).state == "succeeded"
        assert after.sync_posts() == 1
        (update, *_) = after.fake.of("chat.update")
        assert card_location(request) == CardLocation(update.params["channel"], update.params["ts"])


async def test_approving_a_stale_plan_changes_nothing_and_the_card_says_why(world: World) -> None:
    await world.ask("sync dev prod")
    await world.ask("sync dev prod")
    first, second = sorted(await world.services.store.list_requests(), key=lambda r: r.created_at)
    await world.click("alm_approve", card_payload(first.id), user=APPROVER)
    await world.eventually(lambda: world.has_task(first.id), "the first sync to start")
    await world.settle()
    assert (await world.request(first.id)).state == "succeeded"

    await world.click("alm_approve", card_payload(second.id), user=APPROVER)
    stale = await world.state_becomes(second.id, "failed")
    await world.settle()
    card = text_of(world.card(await world.request(stale.id)))
    assert "Failed: The plan is stale" in card
    assert "To try again: `/alm sync dev prod`" in card
    assert world.sync_posts() == 1


async def test_an_approved_status_change_happens_and_the_card_says_so(world: World) -> None:
    await world.ask("offline prod")
    await world.settle()
    request = await world.only_request()
    assert "Take FP&A PROD offline" in text_of(world.card(request))
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    done = await world.state_becomes(request.id, "succeeded")
    await world.settle()
    assert "Succeeded: FP&amp;A PROD is now offline." in text_of(world.card(done))
    assert "· offline ·" in text_of(await world.ask("models prod"))
