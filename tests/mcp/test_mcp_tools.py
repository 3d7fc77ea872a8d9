"""Every tool, called through an in-memory MCP client against the sandbox and a real SQLite store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from alm_bot.actor import Actor
from alm_bot.mcp import build_mcp_server
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import Services, open_services
from tests.mcp.calls import ok, refused
from tests.mcp.sandboxed import sandbox_settings, sync_posts

pytestmark = pytest.mark.anyio

DEV, TEST, PROD = seed.DEV_MODEL_ID, seed.TEST_MODEL_ID, seed.PROD_MODEL_ID


# --- models and revisions ------------------------------------------------------------------------


async def test_list_models_shows_aliases_and_protection(client: Client) -> None:
    models = {m["name"]: m for m in (await ok(client, "alm_list_models"))["models"]}
    assert (models["FP&A DEV"]["alias"], models["FP&A DEV"]["protected"]) == ("dev", False)
    assert (models["FP&A PROD"]["alias"], models["FP&A PROD"]["protected"]) == ("prod", True)
    assert models["FP&A PROD"]["id"] == PROD


async def test_list_models_filters_by_name_or_alias(client: Client) -> None:
    found = await ok(client, "alm_list_models", {"text_filter": "PROD"})
    assert [m["name"] for m in found["models"]] == ["FP&A PROD"]


@pytest.mark.parametrize("reference", ["dev", DEV, "FP&A DEV", "fp&a dev"])
async def test_a_model_may_be_named_by_alias_id_or_exact_name(client: Client, reference: str) -> None:
    revisions = await ok(client, "alm_get_revisions", {"model": reference})
    assert revisions["model"] == {"id": DEV, "name": "FP&A DEV", "alias": "dev"}
    assert [r["name"] for r in revisions["revisions"]][:2] == ["Initial build", "Headcount planning"]


async def test_revisions_can_be_sorted_newest_first(client: Client) -> None:
    revisions = await ok(
        client, "alm_get_revisions", {"model": "dev", "sort_by": "created_on", "descending": True}
    )
    assert revisions["revisions"][0]["name"] == "Capex module"


async def test_latest_revision_of_prod_is_its_current_one(client: Client) -> None:
    latest = await ok(client, "alm_get_latest_revision", {"model": "prod"})
    assert latest["revision"]["name"] == "Headcount planning"


async def test_syncable_revisions_are_listed_newest_first(client: Client) -> None:
    syncable = await ok(client, "alm_get_syncable_revisions", {"source_model": "dev", "target_model": "prod"})
    assert syncable["model"]["alias"] == "prod"
    assert [r["name"] for r in syncable["revisions"]] == ["Capex module", "Q3 forecast"]


async def test_models_for_a_revision_include_every_model_it_was_applied_to(client: Client) -> None:
    applied = await ok(client, "alm_get_models_for_revision", {"model": "dev", "revision": "Initial build"})
    ids = {m["model_id"] for m in applied["models"]}
    assert {DEV, TEST, PROD} <= ids
    assert any(m["model_deleted"] for m in applied["models"])


async def test_a_revision_is_created_on_the_development_model(client: Client) -> None:
    created = await ok(
        client,
        "alm_create_revision",
        {"model": "dev", "name": "Via assistant", "description": "made by a test"},
    )
    latest = await ok(client, "alm_get_latest_revision", {"model": "dev"})
    assert latest["revision"]["id"] == created["id"]
    assert created["name"] == "Via assistant"


async def test_a_revision_on_a_deployed_model_is_refused_naming_the_argument(client: Client) -> None:
    message = await refused(client, "alm_create_revision", {"model": "prod", "name": "Nope"})
    assert "Invalid argument model" in message
    assert "standard-mode" in message


# --- syncs ---------------------------------------------------------------------------------------


async def test_a_sync_into_a_protected_model_waits_for_approval_and_changes_nothing(
    client: Client, sandbox: Sandbox, services: Services
) -> None:
    outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    assert outcome["status"] == "awaiting_approval"
    assert outcome["approvers"] == ["U0APPROVER1", "U0APPROVER2"]
    assert outcome["expires_at"] is not None
    assert outcome["task_id"] is None
    assert "approve it in Slack" in outcome["message"]
    assert sync_posts(sandbox) == []
    request = await services.ops.get_request(outcome["request_id"])
    assert (request.state, request.requester_id, request.origin) == ("pending", "U0ADA", "mcp")


async def test_waiting_is_not_attempted_for_a_sync_awaiting_approval(
    client: Client, sandbox: Sandbox
) -> None:
    arguments = {"source_model": "dev", "target_model": "prod", "wait_for_completion": True}
    outcome = await ok(client, "alm_sync_models", arguments)
    assert (outcome["status"], outcome["task"]) == ("awaiting_approval", None)
    assert sync_posts(sandbox) == []


@pytest.mark.usefixtures("unprotect_test")
async def test_a_sync_into_an_unprotected_model_starts_at_once(client: Client, sandbox: Sandbox) -> None:
    outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "test"})
    assert outcome["status"] == "started"
    assert outcome["task_id"]
    assert outcome["approvers"] == []
    assert sync_posts(sandbox) == [f"/2/0/models/{TEST}/alm/syncTasks"]
    task = await ok(client, "alm_get_sync_task", {"model": "test", "task_id": outcome["task_id"]})
    assert task["model"]["id"] == TEST
    tasks = await ok(client, "alm_get_sync_tasks", {"model": "test"})
    assert outcome["task_id"] in [t["task_id"] for t in tasks["tasks"]]


@pytest.mark.usefixtures("unprotect_test")
async def test_a_sync_waited_for_reports_success(client: Client) -> None:
    arguments = {"source_model": "dev", "target_model": "test", "wait_for_completion": True}
    outcome = await ok(client, "alm_sync_models", arguments)
    assert outcome["status"] == "succeeded"
    assert outcome["task"]["finished"] is True
    assert outcome["result"]["successful"] is True


@pytest.mark.usefixtures("unprotect_test")
async def test_a_failed_sync_waited_for_reports_the_reason(client: Client, sandbox: Sandbox) -> None:
    sandbox.fail_next_sync(TEST)
    arguments = {"source_model": "dev", "target_model": "test", "wait_for_completion": True}
    outcome = await ok(client, "alm_sync_models", arguments)
    assert outcome["status"] == "failed"
    assert outcome["result"]["successful"] is False
    assert "failed" in outcome["message"]


async def test_a_named_revision_that_cannot_be_synced_is_refused_with_the_choices(client: Client) -> None:
    arguments = {"source_model": "dev", "target_model": "prod", "source_revision": "Initial build"}
    message = await refused(client, "alm_sync_models", arguments)
    assert "Syncable now: 'Capex module', 'Q3 forecast'" in message


async def test_a_sync_of_a_model_into_itself_names_the_target_argument(client: Client) -> None:
    message = await refused(client, "alm_sync_models", {"source_model": "dev", "target_model": "FP&A DEV"})
    assert message.endswith(
        "Invalid argument target_model: Source and target are the same model (FP&A DEV (dev))."
    )


async def test_a_protected_change_without_approvers_is_refused(tmp_path: Path, sandbox: Sandbox) -> None:
    settings = sandbox_settings(tmp_path)
    settings = settings.model_copy(
        update={"approval": settings.approval.model_copy(update={"approvers": ()})}
    )
    async with (
        open_services(settings, sandbox=sandbox) as services,
        Client(build_mcp_server(services.ops)) as client,
    ):
        message = await refused(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    assert "no approvers are configured" in message
    assert sync_posts(sandbox) == []


# --- online / offline ----------------------------------------------------------------------------


async def test_taking_a_protected_model_offline_waits_for_approval(client: Client) -> None:
    outcome = await ok(client, "alm_change_model_status", {"model": "prod", "status": "offline"})
    assert outcome["status"] == "awaiting_approval"
    prod = await ok(client, "alm_list_models", {"text_filter": "FP&A PROD"})
    assert prod["models"][0]["online"] is True


@pytest.mark.usefixtures("unprotect_test")
async def test_taking_an_unprotected_model_offline_happens_at_once(client: Client) -> None:
    outcome = await ok(client, "alm_change_model_status", {"model": "test", "status": "offline"})
    assert outcome["status"] == "succeeded"
    assert outcome["result"]["message"] == "FP&A TEST is now offline."


async def test_a_status_other_than_online_or_offline_is_refused_naming_the_argument(client: Client) -> None:
    message = await refused(client, "alm_change_model_status", {"model": "prod", "status": "archived"})
    assert "status" in message
    assert "'online'" in message
    assert "'offline'" in message


# --- comparisons ---------------------------------------------------------------------------------


async def test_a_comparison_summary_is_started_and_then_read(client: Client) -> None:
    started = await ok(
        client, "alm_create_comparison_summary", {"source_model": "dev", "target_model": "prod"}
    )
    assert started["kind"] == "comparison_summary"
    assert started["target_model"]["alias"] == "prod"
    assert "alm_get_comparison_summary_task" in started["next_step"]
    handle = {"model": "prod", "task_id": started["task_id"]}
    task = await ok(client, "alm_get_comparison_summary_task", handle)
    assert task["task_state"] == "COMPLETE"
    summary = await ok(client, "alm_get_comparison_summary", handle)
    assert summary["totals"] == {"created": 8, "modified": 5, "deleted": 0}
    assert summary["differences"]["modules"] == {"created": 1, "modified": 1, "deleted": 0}


async def test_a_comparison_summary_waited_for_includes_the_counts(client: Client) -> None:
    arguments = {"source_model": "dev", "target_model": "prod", "wait_for_completion": True}
    outcome = await ok(client, "alm_create_comparison_summary", arguments)
    assert outcome["status"] == "succeeded"
    assert outcome["summary"]["totals"]["created"] == 8


async def test_a_comparison_report_waited_for_can_be_read_as_text(client: Client) -> None:
    arguments = {"source_model": "dev", "target_model": "prod", "wait_for_completion": True}
    outcome = await ok(client, "alm_create_comparison_report", arguments)
    assert (outcome["kind"], outcome["status"]) == ("comparison_report", "succeeded")
    handle = {"model": "prod", "task_id": outcome["task_id"]}
    assert (await ok(client, "alm_get_comparison_report_task", handle))["result"]["successful"] is True
    report = await ok(client, "alm_get_comparison_report", handle)
    assert "=== MODULES ADDED ===" in report["text"]
    assert report["truncated"] is False
    assert report["size_bytes"] == len(report["text"].encode())


async def test_a_comparison_task_id_that_is_not_an_id_is_refused_naming_it(client: Client) -> None:
    message = await refused(
        client, "alm_get_comparison_summary_task", {"model": "prod", "task_id": "not-hex"}
    )
    assert "task_id 'not-hex' is not an Anaplan id" in message


# --- requests ------------------------------------------------------------------------------------


async def test_a_request_can_be_read_listed_and_cancelled_by_its_requester(client: Client) -> None:
    outcome = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
    rid = outcome["request_id"]
    request = await ok(client, "alm_get_request", {"request_id": rid.lower()})
    assert (request["state"], request["operation"], request["origin"]) == ("pending", "sync", "mcp")
    assert request["requester"] == {"id": "U0ADA", "name": "Ada Lovelace"}
    assert request["source_model"]["alias"] == "dev"
    assert request["source_revision"]["name"] == "Capex module"
    assert request["target_revision"]["name"] == "Headcount planning"
    pending = await ok(client, "alm_list_requests", {"states": ["pending"], "mine": True})
    assert [r["id"] for r in pending["requests"]] == [rid]
    cancelled = await ok(client, "alm_cancel_request", {"request_id": rid})
    assert cancelled["state"] == "cancelled"
    assert await ok(client, "alm_list_requests", {"states": ["pending"]}) == {"requests": []}


async def test_cancelling_again_succeeds_saying_it_is_already_cancelled(
    client: Client, services: Services
) -> None:
    rid = (await ok(client, "alm_change_model_status", {"model": "prod", "status": "offline"}))["request_id"]
    first = await ok(client, "alm_cancel_request", {"request_id": rid})
    again = await ok(client, "alm_cancel_request", {"request_id": rid})  # idempotentHint is true
    assert again == first
    assert again["state"] == "cancelled"
    assert "withdrew" in again["state_explained"]
    audit = [e for e in await services.ops.list_audit() if e.request_id == rid and e.action == "cancelled"]
    assert len(audit) == 1


@pytest.fixture
async def someone_else(services: Services) -> AsyncIterator[Client]:
    bob = Actor("U0BOB", "Bob", "mcp")
    async with Client(build_mcp_server(services.ops, default_actor=bob)) as client:
        yield client


async def test_only_the_requester_can_cancel(client: Client, someone_else: Client) -> None:
    rid = (await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"}))["request_id"]
    message = await refused(someone_else, "alm_cancel_request", {"request_id": rid})
    assert "Only the requester, Ada Lovelace, can cancel" in message
    assert (await ok(client, "alm_get_request", {"request_id": rid}))["state"] == "pending"


async def test_an_unknown_request_points_to_the_list(client: Client) -> None:
    message = await refused(client, "alm_get_request", {"request_id": "R000000"})
    assert "There is no request R000000" in message
    assert "alm_list_requests" in message


# --- errors --------------------------------------------------------------------------------------


async def test_an_unknown_model_is_refused_with_a_suggestion(client: Client) -> None:
    message = await refused(client, "alm_get_revisions", {"model": "prd"})
    assert "did you mean prod?" in message
    assert "alm_list_models" in message
    assert "Traceback" not in message


async def test_a_missing_argument_is_refused_naming_it(client: Client) -> None:
    message = await refused(client, "alm_sync_models", {"source_model": "dev"})
    assert "target_model" in message
    assert "Field required" in message


async def test_an_argument_of_the_wrong_type_is_refused_naming_it(client: Client) -> None:
    message = await refused(client, "alm_list_requests", {"limit": "lots"})
    assert "limit" in message


async def test_a_wait_beyond_the_cap_is_refused_naming_the_argument(client: Client) -> None:
    arguments = {"source_model": "dev", "target_model": "prod", "max_wait_seconds": 3600}
    message = await refused(client, "alm_create_comparison_summary", arguments)
    assert "max_wait_seconds" in message


# --- resources and prompt ------------------------------------------------------------------------


async def test_the_model_registry_resource_lists_aliases_protection_and_approvers(client: Client) -> None:
    result = await client.read_resource("alm://models")
    text = result.contents[0].text  # type: ignore[union-attr]
    assert '"alias": "prod"' in text
    assert '"U0APPROVER1"' in text
    assert "FP&A PROD" in text


async def test_the_requests_resources_show_recent_requests(client: Client) -> None:
    rid = (await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"}))["request_id"]
    recent = await client.read_resource("alm://requests")
    one = await client.read_resource(f"alm://requests/{rid}")
    assert rid in recent.contents[0].text  # type: ignore[union-attr]
    assert '"state": "pending"' in one.contents[0].text  # type: ignore[union-attr]


async def test_a_requests_release_notes_are_a_markdown_resource(client: Client) -> None:
    rid = (await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"}))["request_id"]
    notes = await client.read_resource(f"alm://requests/{rid}/notes")
    content = notes.contents[0]
    assert content.mime_type == "text/markdown"
    text = content.text  # type: ignore[union-attr]
    assert text.startswith("# Release notes: ")
    assert f"request {rid}: pending" in text
    assert "## Verification" in text


async def test_the_release_walkthrough_goes_from_revisions_to_a_sync_request(client: Client) -> None:
    prompt = await client.get_prompt("release_walkthrough", {"source": "dev", "target": "prod"})
    text = prompt.messages[0].content.text  # type: ignore[union-attr]
    steps = [
        "alm_get_syncable_revisions",
        "alm_create_comparison_summary",
        "alm_sync_models",
        "awaiting_approval",
    ]
    positions = [text.index(step) for step in steps]
    assert positions == sorted(positions)
    assert "cannot approve" in text


async def test_reading_a_summary_before_it_is_ready_says_to_wait(client: Client, sandbox: Sandbox) -> None:
    sandbox.task_duration = 10_000
    started = await ok(
        client, "alm_create_comparison_summary", {"source_model": "dev", "target_model": "prod"}
    )
    handle = {"model": "prod", "task_id": started["task_id"]}
    message = await refused(client, "alm_get_comparison_summary", handle)
    assert "Invalid argument task_id" in message
    assert "Wait for it to complete first." in message


async def test_a_legacy_client_gets_the_same_tools_and_answers(services: Services) -> None:
    async with Client(build_mcp_server(services.ops), mode="legacy") as legacy:
        tools = {tool.name for tool in (await legacy.list_tools()).tools}
        outcome = await ok(legacy, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        message = await refused(legacy, "alm_get_revisions", {"model": "prd"})
        protocol = legacy.protocol_version
    assert protocol == "2025-11-25"
    assert "alm_sync_models" in tools
    assert outcome["status"] == "awaiting_approval"
    assert "did you mean prod?" in message
