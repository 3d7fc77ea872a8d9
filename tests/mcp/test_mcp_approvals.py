"""MCP shows a request's approval policy as structured output: counts, stages, who can still approve."""

from __future__ import annotations

import json

import pytest

from alm_bot.sandbox import seed
from tests.world import APPROVER, World, actor

pytestmark = pytest.mark.anyio

STAGES = [{"approvers": ["S0PEERS"], "name": "peers"}, {"approvers": ["U0APPROVER1", "S0FINANCE"]}]


@pytest.mark.world(slack=False, config={"models": {"prod": {"id": seed.PROD_MODEL_ID, "stages": STAGES}}})
async def test_alm_get_request_returns_the_approvals_counted_stage_by_stage(world: World) -> None:
    async with world.mcp() as client:
        asked = await client.call_tool("alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        request_id = asked.structured_content["request_id"]
        await world.ops.requests.decide(request_id, actor=actor(APPROVER, "slack"), approve=True)
        got = await client.call_tool("alm_get_request", {"request_id": request_id})
    approvals = got.structured_content["approvals"]
    assert (approvals["required"], approvals["approved"], approvals["met"]) == (2, 1, False)
    assert approvals["policy_source"] == "[models.prod]"
    peers, second = approvals["stages"]
    assert (peers["name"], peers["met"], peers["approved_by"]) == ("peers", False, [])
    assert second["approved_by"] == [{"id": "U0APPROVER1", "name": "Grace Hopper"}]
    assert approvals["still_possible"] == ["S0PEERS"]


@pytest.mark.world(slack=False)
async def test_a_request_under_the_default_rule_shows_one_stage_of_one(world: World) -> None:
    async with world.mcp() as client:
        asked = await client.call_tool("alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        got = await client.call_tool(
            "alm_get_request", {"request_id": asked.structured_content["request_id"]}
        )
    approvals = got.structured_content["approvals"]
    assert (approvals["required"], approvals["approved"]) == (1, 0)
    assert approvals["stages"][0]["approvers"] == ["U0APPROVER1", "U0APPROVER2"]


@pytest.mark.world(
    slack=False, config={"models": {"prod": {"id": seed.PROD_MODEL_ID, "approvals_required": 2}}}
)
async def test_the_policy_resource_explains_a_models_rules(world: World) -> None:
    async with world.mcp() as client:
        read = await client.read_resource("alm://models/prod/policy")
    explained = json.loads(read.contents[0].text)
    assert explained["protected"] is True
    assert explained["policy"]["approvals_required"] == 2
    assert explained["policy"]["source"] == "[models.prod]"
    assert explained["policy"]["stages"][0]["users"] == ["U0APPROVER1", "U0APPROVER2"]
