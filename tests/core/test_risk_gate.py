"""What the data-loss radar's verdict does to an approval, in the core: a data-loss plan counts only
once confirmed (and the audit says so); ``block_on_risk = "data-loss"`` refuses it outright, per
model or by default; while blocking applies, a plan without a verdict yet is refused too."""

from __future__ import annotations

from typing import Any

import pytest

from alm_bot.errors import RiskRefused
from alm_bot.sandbox import seed
from alm_bot.sandbox.structural import change_from_body
from alm_bot.store import ApprovalRequest
from tests.world import ADA, GRACE, World, open_world

pytestmark = pytest.mark.anyio

DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
PROD = {"id": seed.PROD_MODEL_ID, "protected": True}


async def data_loss_request(core: World, *, settle: bool = True) -> ApprovalRequest:
    core.sandbox.structural_change(seed.DEV_MODEL_ID, change_from_body(DELETION))
    await core.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ADA)
    request = (await core.ops.requests.request_sync("dev", "prod", actor=ADA)).request
    if settle:
        await core.pass_time(2)
    return request


async def test_an_unconfirmed_approval_of_a_data_loss_plan_changes_nothing(core: World) -> None:
    request = await data_loss_request(core)
    with pytest.raises(RiskRefused) as refused:
        await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    assert refused.value.why == "unconfirmed"
    assert refused.value.losses == ("Line item Revenue Input in REV01 Inputs is deleted: its data is lost",)
    assert "The approval counts only once you confirm that." in str(refused.value)
    assert (await core.ops.get_request(request.id)).state == "pending"
    assert core.sync_posts() == 0


async def test_a_confirmed_approval_counts_and_the_audit_records_what_was_confirmed(core: World) -> None:
    request = await data_loss_request(core)
    approved = await core.ops.requests.decide(request.id, actor=GRACE, approve=True, confirmed_risk=True)
    assert approved.state == "executing"
    (event,) = [
        e for e in await core.services.store.list_audit(request_id=request.id) if e.action == "approved"
    ]
    assert event.detail["confirmed_risk"] is True
    assert event.detail["risk"] == "data-loss"
    assert event.detail["losses"] == ["Line item Revenue Input in REV01 Inputs is deleted: its data is lost"]


async def test_a_rejection_of_a_data_loss_plan_needs_no_confirmation(core: World) -> None:
    request = await data_loss_request(core)
    rejected = await core.ops.requests.decide(
        request.id, actor=GRACE, approve=False, reason="Keep the input."
    )
    assert rejected.state == "rejected"


async def test_a_plan_for_review_is_approved_without_confirmation(core: World) -> None:
    request = (await core.ops.requests.request_sync("dev", "prod", actor=ADA)).request
    await core.pass_time(2)
    approved = await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    (event,) = [
        e for e in await core.services.store.list_audit(request_id=request.id) if e.action == "approved"
    ]
    assert (approved.state, event.detail["risk"]) == ("executing", "review")


@pytest.mark.parametrize(
    "config",
    [
        {"approval": {"block_on_risk": "data-loss"}},
        {"models": {"prod": PROD | {"block_on_risk": "data-loss"}}},
    ],
    ids=["default", "per-model"],
)
async def test_block_on_risk_refuses_a_data_loss_sync_even_when_confirmed(
    database_url: str, config: dict[str, Any]
) -> None:
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        request = await data_loss_request(core)
        with pytest.raises(RiskRefused) as refused:
            await core.ops.requests.decide(request.id, actor=GRACE, approve=True, confirmed_risk=True)
        assert refused.value.why == "blocked"
        assert 'block_on_risk = "data-loss" applies to FP&A PROD' in str(refused.value)
        assert (await core.ops.get_request(request.id)).state == "pending"
        assert core.sync_posts() == 0


async def test_a_model_can_switch_the_default_block_off(database_url: str) -> None:
    config = {"approval": {"block_on_risk": "data-loss"}, "models": {"prod": PROD | {"block_on_risk": "off"}}}
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        request = await data_loss_request(core)
        approved = await core.ops.requests.decide(request.id, actor=GRACE, approve=True, confirmed_risk=True)
        assert approved.state == "executing"


async def test_while_blocking_applies_a_plan_without_a_verdict_yet_is_refused(database_url: str) -> None:
    async with open_world(
        database_url=database_url, slack=False, config={"approval": {"block_on_risk": "data-loss"}}
    ) as core:
        request = await data_loss_request(core, settle=False)
        with pytest.raises(RiskRefused) as refused:
            await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
        assert refused.value.why == "pending"
        assert "still reading the comparison" in str(refused.value)
