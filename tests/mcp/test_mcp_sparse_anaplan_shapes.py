"""The MCP tools cope with Anaplan's documented minimal shapes: a sync result without revision ids,
tasks without ``currentStep``/``progress``, revisions without ``appliedOn``, a deleted model without an id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from alm_bot.mcp import build_mcp_server
from alm_bot.sandbox import Sandbox, seed
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.services import open_services
from tests.mcp.calls import ok
from tests.mcp.sandboxed import sandbox_settings

pytestmark = pytest.mark.anyio

SPARSE = Fidelity(current_step="never", result_shapes="minimal")


@pytest.fixture
async def sparse(tmp_path: Path) -> AsyncIterator[tuple[Client, Sandbox]]:
    sandbox = Sandbox(task_duration=0.0, fidelity=SPARSE)
    sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")  # unprotected: the sync runs at once
    settings = sandbox_settings(tmp_path)
    async with open_services(settings, sandbox=sandbox) as services:
        server = build_mcp_server(services.ops, default_actor=settings.mcp_actor)
        async with Client(server) as client:
            yield client, sandbox


async def test_a_sync_with_a_minimal_result_reports_success(sparse: tuple[Client, Sandbox]) -> None:
    client, _ = sparse
    outcome = await ok(
        client,
        "alm_sync_models",
        {"source_model": "dev", "target_model": "test", "wait_for_completion": True},
    )
    task = await ok(client, "alm_get_sync_task", {"model": "test", "task_id": outcome["task"]["task_id"]})

    assert outcome["status"] == "succeeded"
    assert outcome["result"]["successful"] is True
    assert outcome["result"].get("source_revision_id") is None
    assert task.get("current_step") is None
    assert task["result"]["successful"] is True


async def test_sparse_revisions_and_a_deleted_model_without_an_id_are_listed(
    sparse: tuple[Client, Sandbox],
) -> None:
    client, _ = sparse
    revisions = await ok(client, "alm_get_revisions", {"model": "dev"})
    applied = await ok(client, "alm_get_models_for_revision", {"model": "dev", "revision": seed.R1_NAME})

    assert len(revisions["revisions"]) == 4
    deleted = [m for m in applied["models"] if m["model_deleted"]]
    assert [m.get("model_id") for m in deleted] == [None]
