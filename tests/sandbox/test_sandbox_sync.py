"""Syncs on the sandbox: task creation and progress, effects, failures, the task list, online status."""

from __future__ import annotations

import re

import httpx2
import pytest
from sandbox_calls import FROZEN_NOW, JSON_BODY, alm, bearer, latest_revision_id, pair, start, task

from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

pytestmark = pytest.mark.anyio


async def applied_to(
    client: httpx2.AsyncClient, headers: dict[str, str], model_id: str, rev_id: str
) -> list[dict[str, str]]:
    response = await client.get(alm(model_id, f"revisions/{rev_id}/appliedToModels"), headers=headers)
    entries: list[dict[str, str]] = response.json()["appliedToModels"]
    return entries


# --- creation and progress -------------------------------------------------------------------------


async def test_creating_a_sync_answers_201_with_location_and_the_created_task(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        alm(seed.TEST_MODEL_ID, "syncTasks"), json=pair(seed.R4_ID, seed.R3_ID), headers=admin
    )

    assert response.status_code == 201
    body = response.json()
    assert body["meta"] == {"schema": "http://sandbox/2/0/objects/taskWithUrl"}
    assert body["status"] == {"code": 201, "message": "Created"}
    created = body["task"]
    assert re.fullmatch(r"[0-9A-F]{32}", created["taskId"])
    assert created["taskUrl"] == response.headers["location"]
    assert (
        created["taskUrl"]
        == f"http://sandbox/2/0/models/{seed.TEST_MODEL_ID}/alm/syncTasks/{created['taskId']}"
    )
    assert created["taskState"] == "IN_PROGRESS"
    assert created["creationTime"] == int(FROZEN_NOW * 1000)
    assert "currentStep" not in created
    assert "result" not in created


async def test_a_sync_task_moves_from_in_progress_to_complete_without_a_progress_field(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    url = await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))

    started = await task(client, admin, url)
    sandbox.advance(1.5)
    running = await task(client, admin, url)
    sandbox.advance(1.5)
    done = await task(client, admin, url)

    assert [t["taskState"] for t in (started, running, done)] == ["IN_PROGRESS", "IN_PROGRESS", "COMPLETE"]
    assert not any("progress" in t for t in (started, running, done))
    assert running["currentStep"] == "Applying revision"
    assert "result" not in running
    assert done["currentStep"] == "Complete."
    assert done["result"] == {
        "successful": True,
        "sourceRevisionId": seed.R4_ID,
        "targetRevisionId": seed.R3_ID,
    }


async def test_with_task_duration_zero_a_sync_is_complete_on_the_first_poll() -> None:
    sandbox = Sandbox(task_duration=0, clock=lambda: FROZEN_NOW)
    headers = {"Authorization": f"AnaplanAuthToken {sandbox.token_for()}"}
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        url = await start(client, headers, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))

        assert (await task(client, headers, url))["taskState"] == "COMPLETE"


async def test_tasks_created_in_the_same_instant_get_distinct_ids(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    urls = {
        await start(client, admin, seed.PROD_MODEL_ID, "summaryReportTasks", pair(seed.R4_ID, seed.R2_ID))
        for _ in range(5)
    }

    assert len(urls) == 5


# --- effects --------------------------------------------------------------------------------------


async def test_a_finished_sync_makes_the_source_revision_the_targets_latest(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R2_ID

    sandbox.advance(3)

    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R4_ID
    history = await client.get(alm(seed.PROD_MODEL_ID, "revisions"), headers=admin)
    assert [r["id"] for r in history.json()["revisions"]] == [seed.R1_ID, seed.R2_ID, seed.R4_ID]
    syncable = await client.get(
        alm(seed.PROD_MODEL_ID, "syncableRevisions"),
        params={"sourceModelId": seed.DEV_MODEL_ID},
        headers=admin,
    )
    assert "revisions" not in syncable.json()


async def test_a_finished_sync_adds_the_target_to_the_revisions_applied_models_once(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    url = await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))
    sandbox.advance(10)
    for _ in range(3):
        await task(client, admin, url)

    entries = await applied_to(client, admin, seed.DEV_MODEL_ID, seed.R4_ID)

    assert [e["modelId"] for e in entries] == [seed.DEV_MODEL_ID, seed.TEST_MODEL_ID]
    assert entries[1]["appliedMethod"] == "Revision synchronized"
    assert entries[1]["appliedOn"] == "2026-05-28T20:26:43Z", (
        "applied when the task finished, not when observed"
    )
    assert entries[1]["appliedBy"] == seed.ADMIN_GUID


async def test_syncs_chain_dev_to_test_to_prod(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))
    sandbox.advance(3)

    syncable = await client.get(
        alm(seed.PROD_MODEL_ID, "syncableRevisions"),
        params={"sourceModelId": seed.TEST_MODEL_ID},
        headers=admin,
    )

    assert [r["id"] for r in syncable.json()["revisions"]] == [seed.R4_ID, seed.R3_ID]


# --- failures -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        pair(seed.R4_ID, seed.R1_ID),  # the target's revision is not its latest
        pair(seed.R2_ID, seed.R3_ID),  # the source revision is older than the target's
        pair(seed.U2_ID, seed.R3_ID, seed.UNRELATED_MODEL_ID),  # unrelated histories
    ],
)
async def test_an_incompatible_sync_is_accepted_and_completes_unsuccessfully(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, body: dict[str, str]
) -> None:
    url = await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", body)
    sandbox.advance(3)

    done = await task(client, admin, url)

    assert done["taskState"] == "COMPLETE"
    assert done["currentStep"] == "Failed."
    result = done["result"]
    assert result["successful"] is False
    assert result["error"]["title"] == "The target and source revisions are incompatible"
    assert result["error"]["messageText"]
    assert (result["sourceRevisionId"], result["targetRevisionId"]) == (
        body["sourceRevisionId"],
        body["targetRevisionId"],
    )
    assert await latest_revision_id(client, admin, seed.TEST_MODEL_ID) == seed.R3_ID


async def test_a_second_sync_into_a_target_that_is_syncing_is_refused_with_409_model_busy(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R3_ID, seed.R2_ID))

    second = await client.post(
        alm(seed.PROD_MODEL_ID, "syncTasks"), json=pair(seed.R4_ID, seed.R2_ID), headers=admin
    )
    offline = await client.put(
        f"/2/0/models/{seed.PROD_MODEL_ID}/onlineStatus", json={"status": "offline"}, headers=admin
    )
    report = await client.post(
        alm(seed.PROD_MODEL_ID, "summaryReportTasks"), json=pair(seed.R4_ID, seed.R2_ID), headers=admin
    )
    sandbox.advance(3)
    after = await client.put(
        f"/2/0/models/{seed.PROD_MODEL_ID}/onlineStatus", json={"status": "offline"}, headers=admin
    )

    assert (second.status_code, offline.status_code) == (409, 409)
    assert second.json()["status"]["message"] == (
        "Model 'FP&A PROD' is busy: a model synchronization is running on it. Try again when it has finished."
    )
    assert report.status_code == 201, "reports only read the model"
    assert after.status_code == 204, "the model is free again once the sync finished"


async def test_without_the_busy_rule_of_two_syncs_from_the_same_target_revision_the_second_fails() -> None:
    sandbox = Sandbox(
        rate_limit_per_second=None,
        clock=lambda: FROZEN_NOW,
        fidelity=Fidelity(result_shapes="rich", model_busy=False),
    )
    admin = bearer(sandbox.token_for())
    async with httpx2.AsyncClient(
        transport=httpx2.ASGITransport(create_app(sandbox)), base_url="http://sandbox"
    ) as client:
        await _two_syncs_from_one_target_revision(client, admin, sandbox)


async def _two_syncs_from_one_target_revision(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    first = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R3_ID, seed.R2_ID))
    second = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    sandbox.advance(3)

    assert (await task(client, admin, first))["result"]["successful"] is True
    assert (await task(client, admin, second))["result"]["successful"] is False
    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R3_ID


async def test_an_oversized_sync_fails_with_the_workspace_size_message_once(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    flagged = await client.post(f"/_sandbox/models/{seed.PROD_MODEL_ID}/fail-next-sync")
    assert flagged.status_code == 200
    failing = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    sandbox.advance(3)

    error = (await task(client, admin, failing))["result"]["error"]

    assert error["title"] == "Model Synchronization Failed"
    assert "size limit" in error["messageText"]
    assert error["subtitle"]
    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R2_ID
    retry = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    sandbox.advance(3)
    assert (await task(client, admin, retry))["result"]["successful"] is True


@pytest.mark.parametrize(
    "body",
    [
        pair(seed.U1_ID, seed.R3_ID),  # not a revision of the source model
        pair(seed.R4_ID, seed.R4_ID),  # not a revision of the target model
        pair(seed.R4_ID, seed.R3_ID, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"),  # unknown source model
        pair("NOT-AN-ID", seed.R3_ID),
    ],
)
async def test_a_sync_naming_ids_that_do_not_exist_for_their_model_is_400_at_post(
    client: httpx2.AsyncClient, admin: dict[str, str], body: dict[str, str]
) -> None:
    response = await client.post(alm(seed.TEST_MODEL_ID, "syncTasks"), json=body, headers=admin)

    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith("Invalid ")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"nope", "Error parsing request body as JSON"),
        (
            b'{"sourceRevisionId": "A", "sourceModelId": "B", "targetRevisionId": "C", "x": 1}',
            "Unrecognised property detected",
        ),
        (
            b'{"sourceRevisionId": "A", "sourceModelId": "B"}',
            "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'",
        ),
    ],
)
async def test_a_bad_sync_body_is_400_with_anaplans_message(
    client: httpx2.AsyncClient, admin: dict[str, str], body: bytes, message: str
) -> None:
    response = await client.post(
        alm(seed.TEST_MODEL_ID, "syncTasks"), content=body, headers={**admin, **JSON_BODY}
    )

    assert response.status_code == 400
    assert response.json()["status"]["message"] == message


# --- the task list and task lookups ----------------------------------------------------------------


async def test_sync_tasks_are_listed_newest_first_with_only_id_state_and_time(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    older = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R3_ID, seed.R2_ID))
    sandbox.advance(5)
    newer = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))
    await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))

    response = await client.get(alm(seed.PROD_MODEL_ID, "syncTasks"), headers=admin)

    body = response.json()
    assert body["meta"] == {"schema": "http://sandbox/2/0/objects/task"}
    tasks = body["tasks"]
    assert [t["taskId"] for t in tasks] == [newer.rsplit("/", 1)[1], older.rsplit("/", 1)[1]]
    assert [t["taskState"] for t in tasks] == ["IN_PROGRESS", "COMPLETE"]
    assert all(set(t) == {"taskId", "taskState", "creationTime"} for t in tasks)


async def test_no_sync_tasks_leaves_the_tasks_key_out(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    body = (await client.get(alm(seed.PROD_MODEL_ID, "syncTasks"), headers=admin)).json()

    assert body["status"] == {"code": 200, "message": "Success"}
    assert "tasks" not in body


async def test_finished_sync_tasks_are_kept_48_hours_then_dropped(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    sandbox.advance(3 + 48 * 3600 - 1)
    fresh = bearer(sandbox.token_for())  # the first token expired long ago
    assert len((await client.get(alm(seed.PROD_MODEL_ID, "syncTasks"), headers=fresh)).json()["tasks"]) == 1

    sandbox.advance(1)

    assert "tasks" not in (await client.get(alm(seed.PROD_MODEL_ID, "syncTasks"), headers=fresh)).json()
    assert (await client.get(url, headers=fresh)).status_code == 404


async def test_a_sync_task_is_404_under_another_model_or_another_task_type(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    task_id = url.rsplit("/", 1)[1]

    other_model = await client.get(alm(seed.TEST_MODEL_ID, f"syncTasks/{task_id}"), headers=admin)
    other_type = await client.get(alm(seed.PROD_MODEL_ID, f"summaryReportTasks/{task_id}"), headers=admin)

    assert other_model.status_code == 404
    assert other_type.status_code == 404


# --- online status ----------------------------------------------------------------------------------


async def state_of(client: httpx2.AsyncClient, headers: dict[str, str], model_id: str) -> str:
    state: str = (await client.get(f"/2/0/models/{model_id}", headers=headers)).json()["model"]["activeState"]
    return state


async def set_status(
    client: httpx2.AsyncClient, headers: dict[str, str], model_id: str, status: str
) -> httpx2.Response:
    return await client.put(f"/2/0/models/{model_id}/onlineStatus", json={"status": status}, headers=headers)


@pytest.mark.parametrize(
    ("model_id", "online", "offline"),
    [
        (seed.DEV_MODEL_ID, "UNLOCKED", "MAINTENANCE"),
        (seed.PROD_MODEL_ID, "PRODUCTION", "PRODUCTION_MAINTENANCE"),
    ],
)
async def test_offline_and_online_switch_the_active_state_and_answer_204(
    client: httpx2.AsyncClient, admin: dict[str, str], model_id: str, online: str, offline: str
) -> None:
    taken_offline = await set_status(client, admin, model_id, "offline")
    assert (taken_offline.status_code, taken_offline.content) == (204, b"")
    assert await state_of(client, admin, model_id) == offline

    brought_online = await set_status(client, admin, model_id, "online")

    assert brought_online.status_code == 204
    assert await state_of(client, admin, model_id) == online


async def test_asking_for_the_current_status_is_a_harmless_204(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await set_status(client, admin, seed.PROD_MODEL_ID, "online")

    assert response.status_code == 204
    assert await state_of(client, admin, seed.PROD_MODEL_ID) == "PRODUCTION"


async def test_online_status_also_accepts_post(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.post(
        f"/2/0/models/{seed.PROD_MODEL_ID}/onlineStatus", json={"status": "offline"}, headers=admin
    )

    assert response.status_code == 204
    assert await state_of(client, admin, seed.PROD_MODEL_ID) == "PRODUCTION_MAINTENANCE"


async def test_a_locked_model_cannot_change_status(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.set_active_state(seed.TEST_MODEL_ID, "LOCKED")

    response = await set_status(client, admin, seed.TEST_MODEL_ID, "offline")

    assert response.status_code == 400
    assert "cannot change status" in response.json()["status"]["message"]


async def test_an_archived_model_cannot_change_status(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await set_status(client, admin, seed.ARCHIVED_MODEL_ID, "online")

    assert response.status_code == 422
    assert response.json()["status"] == {"code": 422, "message": "Model is Archived"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"offline", "Error parsing request body as JSON"),
        (b'{"status": "offline", "reason": "x"}', "Unrecognised property detected"),
        (b"{}", "Expected mandatory field 'status'"),
        (b'{"status": "sleeping"}', None),
    ],
)
async def test_a_bad_online_status_body_is_400(
    client: httpx2.AsyncClient, admin: dict[str, str], body: bytes, message: str | None
) -> None:
    response = await client.put(
        f"/2/0/models/{seed.PROD_MODEL_ID}/onlineStatus", content=body, headers={**admin, **JSON_BODY}
    )

    assert response.status_code == 400
    if message is not None:
        assert response.json()["status"]["message"] == message
    assert await state_of(client, admin, seed.PROD_MODEL_ID) == "PRODUCTION"


async def test_a_sync_into_a_standard_mode_online_target_is_allowed(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")
    url = await start(client, admin, seed.TEST_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R3_ID))
    sandbox.advance(3)

    assert (await task(client, admin, url))["result"]["successful"] is True


async def test_tasks_past_retention_are_dropped_from_memory(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    sandbox.advance(49 * 3600)

    await client.get("/2/0/models", headers=bearer(sandbox.token_for()))

    assert sandbox.world.tasks == {}
    assert sandbox.world.sync_tasks == {seed.PROD_MODEL_ID: []}


async def test_the_body_is_checked_before_the_model(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        alm("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", "syncTasks"), content=b"{", headers={**admin, **JSON_BODY}
    )

    assert response.status_code == 400
