"""Overriding ``block_on_risk = "data-loss"``, as for change windows: only a member of ``[approval]
override_approvers`` may approve a blocked data-loss sync, only with a reason and after the
data-loss confirmation; the override is audited (``risk_overridden``), posted in the approvals
channel and shown on the card. Through the real stack: core on SQLite and PostgreSQL, and Slack."""

from __future__ import annotations

import httpx2
import pytest

from alm_bot.errors import RequestNotPending, RiskRefused
from alm_bot.sandbox import create_app, seed
from alm_bot.store import ApprovalRequest
from tests.world import (
    ADA,
    APPROVALS,
    APPROVER,
    GRACE,
    LINUS,
    SECOND_APPROVER,
    World,
    button_values,
    card_payload,
    text_of,
)

pytestmark = pytest.mark.anyio

DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
LOSS = "Line item Revenue Input in REV01 Inputs is deleted: its data is lost"
BLOCKING = {"block_on_risk": "data-loss", "override_approvers": [APPROVER]}


async def data_loss_request(world: World) -> ApprovalRequest:
    """A revision that deletes a line item (made over the sandbox's HTTP control), asked for in Slack."""
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(create_app(world.sandbox)), base_url="http://sandbox"
    ) as http:
        url = f"/_sandbox/models/{seed.DEV_MODEL_ID}/structural-change"
        assert (await http.post(url, json=DELETION)).status_code == 200
    await world.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ADA)
    request = (await world.ops.requests.request_sync("dev", "prod", actor=ADA)).request
    await world.settle()
    return await world.request(request.id)


async def audited(world: World, request: ApprovalRequest, action: str) -> list[dict[str, object]]:
    events = await world.services.store.list_audit(request_id=request.id)
    return [e.detail for e in events if e.action == action]


@pytest.mark.world(approval=BLOCKING)
async def test_an_override_approver_approves_past_the_block_with_a_reason(
    world_on_each_database: World,
) -> None:
    world = world_on_each_database
    request = await data_loss_request(world)
    approved = await world.ops.requests.decide(
        request.id, actor=GRACE, approve=True, confirmed_risk=True, override_risk_reason="Input retired."
    )
    assert approved.state == "executing"
    assert approved.reason == "Input retired."
    (override,) = await audited(world, request, "risk_overridden")
    assert override["reason"] == "Input retired."
    assert override["losses"] == [LOSS]
    (approval,) = await audited(world, request, "approved")
    assert (approval["risk_overridden"], approval["confirmed_risk"]) == (True, True)
    await world.settle()
    posted = await world.fake.wait_for(
        "chat.postMessage", where=lambda c: "block_on_risk overridden" in text_of(c.params)
    )
    assert posted[0].params["channel"] == APPROVALS
    assert "Input retired." in text_of(posted[0].params)


@pytest.mark.world(approval=BLOCKING)
async def test_the_override_needs_the_confirmation_and_a_reason(world_on_each_database: World) -> None:
    world = world_on_each_database
    request = await data_loss_request(world)
    with pytest.raises(RiskRefused) as unconfirmed:
        await world.ops.requests.decide(
            request.id, actor=GRACE, approve=True, override_risk_reason="Input retired."
        )
    assert unconfirmed.value.why == "unconfirmed"
    with pytest.raises(RiskRefused) as no_reason:
        await world.ops.requests.decide(
            request.id, actor=GRACE, approve=True, confirmed_risk=True, override_risk_reason="  "
        )
    assert (no_reason.value.why, no_reason.value.overridable) == ("blocked", True)
    assert no_reason.value.next_step is not None
    assert (await world.request(request.id)).state == "pending"
    assert await audited(world, request, "risk_overridden") == []
    assert world.sync_posts() == 0


@pytest.mark.world(approval=BLOCKING)
async def test_only_override_approvers_may_override(world_on_each_database: World) -> None:
    world = world_on_each_database
    request = await data_loss_request(world)
    with pytest.raises(RiskRefused) as refused:
        await world.ops.requests.decide(
            request.id, actor=LINUS, approve=True, confirmed_risk=True, override_risk_reason="Trust me."
        )
    assert (refused.value.why, refused.value.overridable) == ("blocked", False)
    assert "Only the override approvers" in str(refused.value)
    assert (await world.request(request.id)).state == "pending"
    assert world.sync_posts() == 0


@pytest.mark.world(approval=BLOCKING)
async def test_in_slack_the_blocked_card_offers_the_override_through_the_confirmation_form(
    world: World,
) -> None:
    request = await data_loss_request(world)
    card = world.card(request)
    assert list(button_values(card)) == ["alm_reject", "alm_approve"]
    assert "Override and approve" in text_of(card)

    # Not an override approver: told privately, no form.
    await world.click("alm_approve", card_payload(request.id), user=SECOND_APPROVER, request=request)
    (told,) = await world.fake.wait_for(
        "chat.postEphemeral", where=lambda c: c.params.get("user") == SECOND_APPROVER
    )
    assert 'block_on_risk = "data-loss"' in text_of(told.params)
    assert not world.fake.of("views.open")

    # An override approver: the confirmation form, with a reason field.
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    (opened,) = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert LOSS in text_of(view)
    assert "reason" in [b.get("block_id") for b in view["blocks"]]
    values = {"reason": {"value": {"type": "plain_text_input", "value": "Input retired."}}}
    done = await world.submit(
        "alm_confirm_data_loss", values, user=APPROVER, private_metadata=view["private_metadata"]
    )
    assert done.status_code == 200
    await world.state_becomes(request.id, "executing", "succeeded")
    (override,) = await audited(world, request, "risk_overridden")
    assert override["reason"] == "Input retired."

    async def shows_override() -> bool:
        return "Approved past" in text_of(world.card(await world.request(request.id)))

    await world.settle()  # the outbox redraws the card
    await world.eventually(shows_override, "the card shows the override")
    assert "Input retired." in text_of(world.card(await world.request(request.id)))
    with pytest.raises(RequestNotPending):  # nothing left to approve
        await world.ops.requests.check_may_decide(request.id, actor=GRACE)


@pytest.mark.world(approval=BLOCKING | {"approvals_required": 2})
async def test_under_two_approvals_the_override_lets_the_second_approver_confirm(
    world_on_each_database: World,
) -> None:
    world = world_on_each_database
    request = await data_loss_request(world)
    with pytest.raises(RiskRefused):  # nobody overrode yet: blocked for the second approver
        await world.ops.requests.decide(request.id, actor=LINUS, approve=True, confirmed_risk=True)
    first = await world.ops.requests.decide(
        request.id, actor=GRACE, approve=True, confirmed_risk=True, override_risk_reason="Input retired."
    )
    assert first.state == "pending"  # 1 of 2
    with pytest.raises(RiskRefused) as unconfirmed:  # the confirmation is still everyone's
        await world.ops.requests.decide(request.id, actor=LINUS, approve=True)
    assert unconfirmed.value.why == "unconfirmed"
    second = await world.ops.requests.decide(request.id, actor=LINUS, approve=True, confirmed_risk=True)
    assert second.state == "executing"
    assert len(await audited(world, request, "risk_overridden")) == 1
