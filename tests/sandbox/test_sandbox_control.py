"""Rehearsal controls: faults, the rate limit, the request log, the clock, reset and friends."""

from __future__ import annotations

import time
from typing import Any

import anyio
import httpx2
import pytest
from sandbox_calls import FROZEN_NOW, alm, bearer, latest_revision_id, pair, start, task

from alm_bot.sandbox import Sandbox, create_app, seed

pytestmark = pytest.mark.anyio

MODELS = "/2/0/models"
SYNC_TASKS = alm(seed.PROD_MODEL_ID, "syncTasks")


async def add_fault(client: httpx2.AsyncClient, **fault: Any) -> httpx2.Response:
    return await client.post("/_sandbox/faults", json=fault)


# --- faults ----------------------------------------------------------------------------------------


async def test_a_status_fault_fails_the_next_n_matching_requests_then_disappears(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    added = await add_fault(client, method="GET", path="^/2/0/models$", status=503, times=2)
    assert added.status_code == 201

    statuses = [(await client.get(MODELS, headers=admin)).status_code for _ in range(3)]

    assert statuses == [503, 503, 200]
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}


async def test_a_status_fault_answers_in_the_api_error_shape(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, path="models", status=500)

    body = (await client.get(MODELS, headers=admin)).json()

    assert body["status"]["code"] == 500
    assert body["path"] == MODELS


async def test_a_status_fault_answers_without_doing_the_work(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, method="POST", path="/alm/syncTasks$", status=502)

    response = await client.post(SYNC_TASKS, json=pair(seed.R4_ID, seed.R2_ID), headers=admin)

    assert response.status_code == 502
    assert "tasks" not in (await client.get(SYNC_TASKS, headers=admin)).json()


async def test_a_fault_only_hits_its_method_and_path(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, method="POST", path="/alm/syncTasks$", status=503)

    listing = await client.get(SYNC_TASKS, headers=admin)
    other_path = await client.get(MODELS, headers=admin)

    assert (listing.status_code, other_path.status_code) == (200, 200)
    assert len((await client.get("/_sandbox/faults")).json()["faults"]) == 1


async def test_a_fault_can_carry_retry_after(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    await add_fault(client, path="models", status=429, retry_after=7)

    response = await client.get(MODELS, headers=admin)

    assert response.status_code == 429
    assert response.headers["retry-after"] == "7"


async def test_a_401_fault_on_the_auth_service_answers_in_the_auth_shape(client: httpx2.AsyncClient) -> None:
    await add_fault(client, method="POST", path="^/token/authenticate$", status=401)

    response = await client.post("/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))

    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


async def test_a_delay_only_fault_does_the_work_and_answers_late(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, method="POST", path="/alm/syncTasks$", delay=5.0)

    with anyio.move_on_after(0.2) as scope:  # a client that gives up long before the answer
        await client.post(SYNC_TASKS, json=pair(seed.R4_ID, seed.R2_ID), headers=admin)

    assert scope.cancelled_caught
    tasks = (await client.get(SYNC_TASKS, headers=admin)).json()["tasks"]
    assert len(tasks) == 1, "the sync was started although its creator never heard back"


async def test_a_delay_only_fault_answers_with_the_real_result_after_the_delay(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, path="^/2/0/models$", delay=0.2)
    began = time.monotonic()

    with anyio.fail_after(5):
        response = await client.get(MODELS, headers=admin)

    assert time.monotonic() - began >= 0.2
    assert response.status_code == 200
    assert len(response.json()["models"]) == 6


async def test_a_status_fault_with_a_delay_answers_the_status_late(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await add_fault(client, path="^/2/0/models$", status=504, delay=0.2)
    began = time.monotonic()

    with anyio.fail_after(5):
        response = await client.get(MODELS, headers=admin)

    assert time.monotonic() - began >= 0.2
    assert response.status_code == 504


@pytest.mark.parametrize(
    "fault",
    [
        {"path": "models"},
        {"path": "models", "status": 200},
        {"path": "(", "status": 500},
        {"path": "models", "status": 500, "times": 0},
        {"path": "models", "status": "500"},
        {"path": "models", "delay": "soon"},
    ],
)
async def test_a_nonsensical_fault_is_refused_with_400(
    client: httpx2.AsyncClient, fault: dict[str, Any]
) -> None:
    response = await add_fault(client, **fault)

    assert response.status_code == 400
    assert response.json()["error"]


async def test_faults_can_be_listed_and_cleared(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    sandbox.add_fault("GET", "models", status=500, times=3)
    listed = (await client.get("/_sandbox/faults")).json()["faults"]

    cleared = await client.delete("/_sandbox/faults")

    assert listed == [
        {"method": "GET", "path": "models", "status": 500, "times": 3, "retry_after": None, "delay": None}
    ]
    assert cleared.status_code == 204
    assert len(sandbox.faults) == 0


# --- rate limit --------------------------------------------------------------------------------------


async def test_an_empty_bucket_answers_429_with_retry_after_until_time_refills_it() -> None:
    sandbox = Sandbox(rate_limit_per_second=1.0, rate_limit_burst=3, clock=lambda: FROZEN_NOW)
    headers = bearer(sandbox.token_for())
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        allowed = [(await client.get(MODELS, headers=headers)).status_code for _ in range(3)]
        limited = await client.get(MODELS, headers=headers)
        sandbox.advance(1)
        refilled = await client.get(MODELS, headers=headers)

    assert allowed == [200, 200, 200]
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "1"
    assert limited.json()["status"]["code"] == 429
    assert refilled.status_code == 200


async def test_retry_after_is_whole_seconds_rounded_up() -> None:
    sandbox = Sandbox(rate_limit_per_second=0.25, rate_limit_burst=1, clock=lambda: FROZEN_NOW)
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        await client.post("/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))
        sandbox.advance(0.5)
        limited = await client.post("/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))

    assert limited.status_code == 429, "auth calls count against the same bucket"
    assert limited.headers["retry-after"] == "4"


async def test_control_endpoints_are_neither_rate_limited_nor_logged(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    await client.post("/_sandbox/rate-limit", json={"per_second": 1, "burst": 1})
    await client.get(MODELS)
    assert (await client.get(MODELS)).status_code == 429

    for _ in range(5):
        assert (await client.get("/_sandbox/requests")).status_code == 200

    assert [e.status for e in sandbox.request_log] == [401, 429]


async def test_the_rate_limit_can_be_switched_off(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    await client.post("/_sandbox/rate-limit", json={"per_second": 1, "burst": 1})
    await client.post("/_sandbox/rate-limit", json={"per_second": None, "burst": 1})

    statuses = {(await client.get(MODELS, headers=admin)).status_code for _ in range(20)}

    assert statuses == {200}


@pytest.mark.parametrize("body", [{"per_second": 0}, {"per_second": 1, "burst": 0}, {"burst": "many"}])
async def test_a_nonsensical_rate_limit_is_refused(client: httpx2.AsyncClient, body: dict[str, Any]) -> None:
    assert (await client.post("/_sandbox/rate-limit", json=body)).status_code == 400


# --- request log --------------------------------------------------------------------------------------


async def test_the_request_log_records_method_path_status_and_sandbox_time(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await client.get(MODELS, params={"limit": 1}, headers=admin)
    sandbox.advance(2)
    await client.post(SYNC_TASKS, json=pair(seed.R4_ID, seed.R2_ID), headers=admin)

    log = (await client.get("/_sandbox/requests")).json()["requests"]

    assert log == [
        {"method": "GET", "path": MODELS, "status": 200, "time": FROZEN_NOW},
        {"method": "POST", "path": SYNC_TASKS, "status": 201, "time": FROZEN_NOW + 2},
    ]
    assert (await client.delete("/_sandbox/requests")).status_code == 204
    assert sandbox.request_log == []


# --- clock, structural changes, states, reset -------------------------------------------------------------


async def test_the_clock_endpoint_moves_sandbox_time_and_tasks_with_it(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))

    moved = await client.post("/_sandbox/clock", json={"advance": 3})

    assert moved.json() == {"now": FROZEN_NOW + 3}
    assert (await client.get("/_sandbox/clock")).json() == {"now": FROZEN_NOW + 3}
    assert (await task(client, admin, url))["taskState"] == "COMPLETE"


@pytest.mark.parametrize("body", [{}, {"advance": -1}, {"advance": "soon"}, [1]])
async def test_the_clock_refuses_to_go_back_or_nowhere(client: httpx2.AsyncClient, body: Any) -> None:
    assert (await client.post("/_sandbox/clock", json=body)).status_code == 400


async def test_the_structural_change_endpoint_lets_a_revision_be_created(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await client.post(alm(seed.DEV_MODEL_ID, "revisions"), json={"name": "R5"}, headers=admin)

    changed = await client.post(f"/_sandbox/models/{seed.DEV_MODEL_ID}/structural-change")
    created = await client.post(alm(seed.DEV_MODEL_ID, "revisions"), json={"name": "R6"}, headers=admin)

    assert changed.json() == {"model_id": seed.DEV_MODEL_ID, "pending_structural_changes": 1}
    assert created.status_code == 201


@pytest.mark.parametrize(
    ("model_id", "status"), [(seed.PROD_MODEL_ID, 409), ("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", 404)]
)
async def test_structural_changes_need_a_known_model_in_standard_mode(
    client: httpx2.AsyncClient, model_id: str, status: int
) -> None:
    response = await client.post(f"/_sandbox/models/{model_id}/structural-change")

    assert response.status_code == status
    assert response.json()["error"]


async def test_the_state_endpoint_forces_an_active_state(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    forced = await client.post(
        f"/_sandbox/models/{seed.TEST_MODEL_ID}/state", json={"active_state": "LOCKED"}
    )
    refused = await client.post(
        f"/_sandbox/models/{seed.TEST_MODEL_ID}/state", json={"active_state": "ASLEEP"}
    )

    assert forced.status_code == 200
    assert refused.status_code == 400
    model = (await client.get(f"/2/0/models/{seed.TEST_MODEL_ID}", headers=admin)).json()["model"]
    assert model["activeState"] == "LOCKED"


async def test_reset_restores_the_seed_and_drops_tasks_faults_and_the_log_but_keeps_sessions(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
    await client.post(alm(seed.DEV_MODEL_ID, "revisions"), json={"name": "R5"}, headers=admin)
    sandbox.advance(3)
    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R4_ID
    sandbox.add_fault("DELETE", "nothing", status=500)

    reset = await client.post("/_sandbox/reset")

    assert reset.status_code == 200
    assert await latest_revision_id(client, admin, seed.PROD_MODEL_ID) == seed.R2_ID
    assert await latest_revision_id(client, admin, seed.DEV_MODEL_ID) == seed.R4_ID
    assert "tasks" not in (await client.get(SYNC_TASKS, headers=admin)).json()
    assert len(sandbox.faults) == 0
    assert len(sandbox.request_log) == 3, "only the requests made after the reset"
    created = await client.post(alm(seed.DEV_MODEL_ID, "revisions"), json={"name": "R5"}, headers=admin)
    assert created.status_code == 201, "the seed's pending structural change is back"


async def test_the_info_endpoint_tells_urls_logins_and_models(client: httpx2.AsyncClient) -> None:
    info = (await client.get("/_sandbox")).json()

    assert info["api_url"] == "http://sandbox/2/0"
    assert info["auth_url"] == "http://sandbox"
    assert info["users"][0]["email"] == seed.ADMIN_USER
    dev = next(m for m in info["models"] if m["id"] == seed.DEV_MODEL_ID)
    assert (dev["latest_revision_id"], dev["pending_structural_changes"]) == (seed.R4_ID, 1)


async def test_unknown_paths_and_methods_answer_in_the_api_error_shape(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    missing = await client.get("/2/0/nothing", headers=admin)
    wrong_method = await client.delete(MODELS, headers=admin)

    assert (missing.status_code, missing.json()["status"]["code"]) == (404, 404)
    assert (wrong_method.status_code, wrong_method.json()["status"]["code"]) == (405, 405)
