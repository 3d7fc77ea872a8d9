"""Approving a sync the data-loss radar says destroys data, in Slack end to end: the card leads with
the verdict; Approve opens a form naming what will be lost and changes nothing by itself; only the
form's submission approves. With ``block_on_risk = "data-loss"`` the click is refused privately."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from alm_bot.actor import Actor
from alm_bot.sandbox import create_app, seed
from alm_bot.store import ApprovalRequest
from tests.world import APPROVER, REQUESTER, World, button_values, card_payload, open_world, text_of

pytestmark = pytest.mark.anyio

DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
LOSS = "Line item Revenue Input in REV01 Inputs is deleted: its data is lost"


async def data_loss_card(world: World) -> ApprovalRequest:
    """A revision that deletes a line item (made over the sandbox's HTTP control), asked for in Slack."""
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(create_app(world.sandbox)), base_url="http://sandbox"
    ) as http:
        url = f"/_sandbox/models/{seed.DEV_MODEL_ID}/structural-change"
        assert (await http.post(url, json=DELETION)).status_code == 200
    await world.services.ops.immediate.create_revision(
        "dev", "Drops Revenue Input", "", actor=Actor(REQUESTER, "Ada", "slack")
    )
    await world.ask("sync dev prod", user=REQUESTER)
    await world.settle()
    return await world.only_request()


async def test_approve_on_a_data_loss_card_asks_first_and_only_the_confirmation_approves(
    world: World,
) -> None:
    request = await data_loss_card(world)
    card = text_of(world.card(request))
    assert "🛑 *Data-loss radar: DATA LOSS*" in card
    assert LOSS in card

    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    (opened,) = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "alm_confirm_data_loss"
    assert LOSS in text_of(view)
    assert (await world.request(request.id)).state == "pending"  # the click alone changes nothing
    assert world.sync_posts() == 0

    done = await world.submit(
        "alm_confirm_data_loss", {}, user=APPROVER, private_metadata=view["private_metadata"]
    )
    assert done.status_code == 200
    approved = await world.state_becomes(request.id, "executing", "succeeded")
    assert approved.decided_by_id == APPROVER
    (event,) = [
        e for e in await world.services.store.list_audit(request_id=request.id) if e.action == "approved"
    ]
    assert event.detail["confirmed_risk"] is True
    assert event.detail["losses"] == [LOSS]


async def test_with_block_on_risk_the_click_is_refused_privately_and_no_form_opens(tmp_path: Path) -> None:
    async with open_world(tmp_path, approval={"block_on_risk": "data-loss"}) as world:
        request = await data_loss_card(world)
        await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
        (told,) = await world.fake.wait_for(
            "chat.postEphemeral", where=lambda c: c.params.get("user") == APPROVER
        )
        assert 'block_on_risk = "data-loss" applies to FP&amp;A PROD' in text_of(told.params)
        assert not world.fake.of("views.open")
        assert (await world.request(request.id)).state == "pending"
        card = world.card(request)
        assert 'block_on_risk = "data-loss"' in text_of(card)
        # No plain Approve: only Reject, and the override (for override approvers, who give a reason).
        assert list(button_values(card)) == ["alm_reject", "alm_approve"]
        assert "Override and approve" in text_of(card)
