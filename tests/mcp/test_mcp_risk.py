"""An assistant reads the data-loss radar's verdict: ``alm_get_request`` carries ``risk`` with the
verdict and the findings, once the watcher has read the comparison (null before)."""

from __future__ import annotations

import pytest
from calls import ok

from alm_bot.actor import Actor
from alm_bot.sandbox import seed
from alm_bot.sandbox.structural import change_from_body
from tests.world import World

pytestmark = pytest.mark.anyio

DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}


@pytest.mark.world(slack=False)
async def test_alm_get_request_carries_the_radars_verdict_and_findings(world: World) -> None:
    ada = Actor("U0REQUESTER", "Ada", "mcp")
    world.sandbox.structural_change(seed.DEV_MODEL_ID, change_from_body(DELETION))
    await world.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ada)
    request = (await world.ops.requests.request_sync("dev", "prod", actor=ada)).request
    async with world.mcp() as assistant:
        before = await ok(assistant, "alm_get_request", {"request_id": request.id})
        await world.settle()
        after = await ok(assistant, "alm_get_request", {"request_id": request.id})
    assert before.get("risk") is None
    risk = after["risk"]
    assert risk["verdict"] == "data-loss"
    assert risk["findings"][0] == {
        "verdict": "data-loss",
        "rule": "line-item-deleted",
        "category": "lineItems",
        "object": "Revenue Input",
        "module": "REV01 Inputs",
        "reason": "Line item Revenue Input in REV01 Inputs is deleted: its data is lost",
    }
    assert risk["omitted"] == 0
