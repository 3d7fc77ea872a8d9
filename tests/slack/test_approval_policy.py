"""Approval policies in Slack, end to end: the count on the card, stages from user groups, the
reminder in the thread, the escalation DM, and ``/alm policy``.

Ada asks for dev → prod; Grace and Linus approve. Clicks are signed block_actions posted to the
real app; what people see is what the fake Slack holds after the watcher delivered the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from alm_bot.sandbox import seed
from alm_bot.slack.card_ref import card_location
from alm_bot.store import ApprovalRequest
from tests.world import (
    APPROVER,
    REQUESTER,
    SECOND_APPROVER,
    World,
    button_values,
    card_payload,
    open_world,
    text_of,
)

pytestmark = pytest.mark.anyio

BOSS = "U0BOSS"
HOUR = 3600.0


def prod(**policy: Any) -> dict[str, dict[str, Any]]:
    return {"prod": {"id": seed.PROD_MODEL_ID, "protected": True, **policy}}


@pytest.fixture
async def two_of(tmp_path: Path) -> AsyncIterator[World]:
    models = prod(approvals_required=2, escalate_after="6h", escalate_to=[BOSS])
    async with open_world(tmp_path, approval={"remind_after": "2h"}, config={"models": models}) as world:
        world.fake.add_user(BOSS, "barbara", real_name="Barbara Liskov")
        yield world


async def carded(world: World) -> ApprovalRequest:
    await world.ask("sync dev prod", user=REQUESTER)
    await world.settle()
    request = await world.only_request()
    assert card_location(request) is not None
    return request


async def approve(world: World, request: ApprovalRequest, user: str) -> None:
    reply = await world.click("alm_approve", card_payload(request.id), user=user, request=request)
    assert reply.status_code == 200


def thread_replies(world: World, request: ApprovalRequest) -> list[str]:
    posted = card_location(request)
    assert posted is not None
    calls = world.fake.of("chat.postMessage")
    return [text_of(c.params) for c in calls if c.params.get("thread_ts") == posted.ts]


async def test_the_card_counts_the_first_approval_and_stays_open_until_the_second(two_of: World) -> None:
    request = await carded(two_of)
    await approve(two_of, request, APPROVER)

    async def counted() -> bool:
        return "1 of 2 approvals: <@U0APPROVER1>" in text_of(two_of.card(request))

    await two_of.eventually(lambda: _settled_then(two_of, counted), "the card to count Grace's approval")
    card = two_of.card(request)
    assert set(button_values(card)) == {"alm_approve", "alm_reject"}
    assert "Waiting for 1 more approval" in text_of(card)
    assert two_of.sync_posts() == 0

    (counted_note,) = await two_of.fake.wait_for(
        "chat.postEphemeral", where=lambda c: c.params.get("user") == APPROVER
    )
    assert "is counted (1 of 2 approvals: <@U0APPROVER1>). It needs 1 more approval" in text_of(
        counted_note.params
    )

    await approve(two_of, request, APPROVER)  # again: told privately, counted once
    told = await two_of.fake.wait_for(
        "chat.postEphemeral", count=2, where=lambda c: c.params.get("user") == APPROVER
    )
    assert "already approved" in text_of(told[-1].params)
    assert "<@U0APPROVER2>" in text_of(told[-1].params)

    await approve(two_of, request, SECOND_APPROVER)
    await two_of.eventually(lambda: two_of.has_task(request.id), "the sync to start")
    assert two_of.sync_posts() == 1
    await two_of.settle()
    shown = text_of(two_of.card(request))
    assert "2 of 2 approvals: <@U0APPROVER1>, <@U0APPROVER2>" in shown
    assert "alm_approve" not in button_values(two_of.card(request))


async def test_one_reminder_and_one_escalation_reach_the_thread_and_the_boss(two_of: World) -> None:
    request = await carded(two_of)
    two_of.advance(2.5 * HOUR)
    await two_of.settle()
    two_of.advance(0.5 * HOUR)
    await two_of.settle()
    (reminder,) = [t for t in thread_replies(two_of, request) if "Reminder" in t]
    assert "<@U0APPROVER1>" in reminder
    assert "<@U0APPROVER2>" in reminder

    two_of.advance(4 * HOUR)
    await two_of.settle()
    await two_of.settle()
    (escalated,) = [t for t in thread_replies(two_of, request) if "Escalated" in t]
    assert "<@U0BOSS>" in escalated
    dm_channels = [
        c.params["channel"] for c in two_of.fake.of("chat.postMessage") if "Escalated" in text_of(c.params)
    ]
    assert len(dm_channels) == 2  # the thread, and one DM
    assert "may approve too" in text_of(two_of.card(request))
    assert len([t for t in thread_replies(two_of, request) if "Reminder" in t]) == 1


async def test_stages_come_from_user_groups_and_are_shown_stage_by_stage(tmp_path: Path) -> None:
    stages = [{"approvers": ["S0PEERS"], "name": "peers"}, {"approvers": ["S0FINANCE"], "name": "finance"}]
    async with open_world(tmp_path, config={"models": prod(stages=stages)}) as world:
        world.fake.usergroups["S0PEERS"] = [SECOND_APPROVER]
        world.fake.usergroups["S0FINANCE"] = [APPROVER]
        request = await carded(world)
        shown = text_of(world.card(request))
        assert "Approvals, stage by stage" in shown
        assert "1. peers — 0 of 1 · waiting for <!subteam^S0PEERS>" in shown.replace("members of ", "")
        await approve(world, request, SECOND_APPROVER)

        async def peers_met() -> bool:
            return "✅ 1. peers — 1 of 1: <@U0APPROVER2>" in text_of(world.card(request))

        await world.eventually(lambda: _settled_then(world, peers_met), "the peers' stage to be met")
        assert world.sync_posts() == 0
        await approve(world, request, APPROVER)
        await world.eventually(lambda: world.has_task(request.id), "the sync to start")
        assert world.sync_posts() == 1


async def test_alm_policy_explains_the_rules_of_a_model(two_of: World) -> None:
    shown = text_of(await two_of.ask("policy prod"))
    assert "Approval policy for FP&amp;A PROD (prod)" in shown
    assert "2 approvals" in shown
    assert "[models.prod]" in shown
    assert "Reminder in the card's thread after 2h" in shown
    assert "Escalation after 6h: <@U0BOSS>" in shown


async def test_without_a_policy_the_card_reads_as_it_always_did(tmp_path: Path) -> None:
    async with open_world(tmp_path) as world:
        request = await carded(world)
        shown = text_of(world.card(request))
        assert "Waiting for an approver" in shown
        assert "approvals" not in shown


async def _settled_then(world: World, check: Any) -> bool:
    await world.settle()
    return bool(await check())
