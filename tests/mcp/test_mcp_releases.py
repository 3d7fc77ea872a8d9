"""alm_request_release / alm_drop_release_targets / alm_get_request for a release: structured, per target."""

from __future__ import annotations

import pytest
from mcp import Client

from alm_bot.sandbox import seed
from tests.mcp.calls import ok

pytestmark = pytest.mark.anyio


async def test_a_release_into_two_models_awaits_one_approval_and_lists_each_target(client: Client) -> None:
    answer = await ok(client, "alm_request_release", {"source": "dev", "targets": ["test", "prod"]})
    assert answer["status"] == "awaiting_approval"
    assert answer["revision"] == seed.R4_NAME
    assert [(t["model"]["alias"], t["wave"], t["state"]) for t in answer["targets"]] == [
        ("test", 1, "waiting"),
        ("prod", 1, "waiting"),
    ]
    assert answer["blocked"] == []
    assert "cannot approve" in answer["message"]

    shown = await ok(client, "alm_get_request", {"request_id": answer["request_id"]})
    assert [t["current_revision"] for t in shown["targets"]] == [seed.R3_NAME, seed.R2_NAME]
    assert shown["state"] == "pending"


async def test_a_blocked_target_is_reported_with_its_reason_and_dropped_by_a_call(client: Client) -> None:
    answer = await ok(
        client, "alm_request_release", {"source": "dev", "targets": ["prod", seed.UNRELATED_MODEL_ID]}
    )
    assert answer["status"] == "blocked"
    assert answer["blocked"] == [seed.UNRELATED_MODEL_ID]
    (blocked,) = [t for t in answer["targets"] if t["blocked_reason"]]
    assert "Workforce Planning" in blocked["blocked_reason"]
    assert "alm_drop_release_targets" in answer["message"]

    going = await ok(client, "alm_drop_release_targets", {"request_id": answer["request_id"]})
    assert going["status"] == "awaiting_approval"
    assert [t["state"] for t in going["targets"]] == ["waiting", "dropped"]


async def test_a_plain_sync_request_lists_no_targets(client: Client) -> None:
    answer = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    shown = await ok(client, "alm_get_request", {"request_id": answer["request_id"]})
    assert shown.get("targets") is None
