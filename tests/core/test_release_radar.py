"""The data-loss radar for a release: preflight asks for the full comparison report of every
protected target (not only the first), each target gets its verdict, the card names each one, and
the approval gate checks every target (``block_on_risk`` on one target blocks the release)."""

from __future__ import annotations

import pytest

from alm_bot.errors import RiskRefused
from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.records import SyncPlan
from alm_bot.sandbox import seed
from alm_bot.sandbox.defaults import sandbox_defaults
from alm_bot.sandbox.structural import change_from_body
from alm_bot.store import ApprovalRequest
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import ADA, GRACE, World, text_of

pytestmark = pytest.mark.anyio

APAC = copy_id(1)
DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
LOSS = "Line item Revenue Input in REV01 Inputs is deleted: its data is lost"


def _models(**apac: object) -> dict[str, dict[str, object]]:
    models: dict[str, dict[str, object]] = dict(sandbox_defaults()["models"])
    models["prod-1"] = {"id": APAC, "protected": True, **apac}
    return models


async def losing_release(world: World) -> ApprovalRequest:
    add_prod_copies(world.sandbox, 1)
    world.sandbox.structural_change(seed.DEV_MODEL_ID, change_from_body(DELETION))
    await world.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ADA)
    outcome = await world.ops.releases.request_release(ReleaseSpec("dev", (("prod", "prod-1"),)), actor=ADA)
    await world.settle()
    return await world.request(outcome.request.id)


@pytest.mark.world(config={"models": _models()})
async def test_every_protected_target_of_a_release_gets_its_report_and_verdict(
    world_on_each_database: World,
) -> None:
    world = world_on_each_database
    request = await losing_release(world)
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    for target in plan.targets:
        assert target.report_task_id is not None, target.model.name
        assert target.report is not None, target.model.name  # read by the radar, not the summary alone
        assert target.risk is not None
        assert target.risk.verdict == "data-loss"
    reports = [
        e.path.split("/models/", 1)[1].split("/", 1)[0]
        for e in world.sandbox.request_log
        if e.method == "POST" and e.path.endswith("/comparisonReportTasks")
    ]
    assert sorted(reports) == sorted([seed.PROD_MODEL_ID, APAC])
    card = text_of(world.card(request))
    assert "*FP&amp;A PROD:* 🛑 *Data-loss radar: DATA LOSS*" in card
    assert "*FP&amp;A PROD 1:* 🛑 *Data-loss radar: DATA LOSS*" in card

    with pytest.raises(RiskRefused) as refused:
        await world.ops.requests.decide(request.id, actor=GRACE, approve=True)
    assert refused.value.why == "unconfirmed"
    approved = await world.ops.requests.decide(request.id, actor=GRACE, approve=True, confirmed_risk=True)
    assert approved.state == "executing"
    (event,) = [
        e for e in await world.services.store.list_audit(request_id=request.id) if e.action == "approved"
    ]
    assert event.detail["risks"] == {"FP&A PROD": "data-loss", "FP&A PROD 1": "data-loss"}
    assert event.detail["losses"] == [LOSS, LOSS]


@pytest.mark.world(config={"models": _models(block_on_risk="data-loss")})
async def test_block_on_risk_on_a_later_target_blocks_the_release(world: World) -> None:
    request = await losing_release(world)
    with pytest.raises(RiskRefused) as refused:
        await world.ops.requests.decide(request.id, actor=GRACE, approve=True, confirmed_risk=True)
    assert refused.value.why == "blocked"
    assert "FP&A PROD 1" in str(refused.value)
    assert "Approval is blocked" in text_of(world.card(request))
