"""Revisions on the sandbox: latest, list, create, appliedToModels, syncable revisions."""

from __future__ import annotations

import re
from typing import Any

import httpx2
import pytest
from sandbox_calls import JSON_BODY, alm

from alm_bot.sandbox import Sandbox, seed

pytestmark = pytest.mark.anyio

REVISION_SCHEMA = "http://sandbox/2/0/objects/revision"


async def revisions(
    client: httpx2.AsyncClient, headers: dict[str, str], model_id: str = seed.DEV_MODEL_ID, **params: Any
) -> httpx2.Response:
    return await client.get(alm(model_id, "revisions"), params=params, headers=headers)


async def create(
    client: httpx2.AsyncClient, headers: dict[str, str], body: Any, model_id: str = seed.DEV_MODEL_ID
) -> httpx2.Response:
    return await client.post(alm(model_id, "revisions"), json=body, headers=headers)


# --- latest ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [(seed.DEV_MODEL_ID, seed.R4_ID), (seed.TEST_MODEL_ID, seed.R3_ID), (seed.PROD_MODEL_ID, seed.R2_ID)],
)
async def test_latest_revision_is_a_one_element_revisions_list(
    client: httpx2.AsyncClient, admin: dict[str, str], model_id: str, expected: str
) -> None:
    response = await client.get(alm(model_id, "latestRevision"), headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert body["meta"] == {"schema": REVISION_SCHEMA}
    assert body["status"] == {"code": 200, "message": "Success"}
    assert [r["id"] for r in body["revisions"]] == [expected]


async def test_a_revision_as_one_model_sees_it_says_when_it_reached_that_model(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(alm(seed.PROD_MODEL_ID, "latestRevision"), headers=admin)

    assert response.json()["revisions"][0] == {
        "id": seed.R2_ID,
        "name": seed.R2_NAME,
        "description": "Adds the headcount module.",
        "createdOn": "2025-02-03T09:30:00Z",
        "createdBy": seed.ADMIN_GUID,
        "creationMethod": "User added revision",
        "appliedOn": "2025-02-05T08:00:00Z",
        "appliedBy": seed.ADMIN_GUID,
    }


# --- list -----------------------------------------------------------------------------------------


async def test_revisions_list_the_history_oldest_first_with_paging(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await revisions(client, admin)

    body = response.json()
    assert [r["id"] for r in body["revisions"]] == [seed.R1_ID, seed.R2_ID, seed.R3_ID, seed.R4_ID]
    assert body["meta"]["paging"] == {"currentPageSize": 4, "offset": 0, "totalSize": 4}
    assert "description" not in body["revisions"][2], "R3 has no description, so the key is left out"


async def test_revisions_page_with_limit_and_offset(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await revisions(client, admin, limit=2, offset=1)

    body = response.json()
    assert [r["id"] for r in body["revisions"]] == [seed.R2_ID, seed.R3_ID]
    base = f"http://sandbox{alm(seed.DEV_MODEL_ID, 'revisions')}"
    assert body["meta"]["paging"] == {
        "currentPageSize": 2,
        "offset": 1,
        "totalSize": 4,
        "next": f"{base}?limit=2&offset=3",
        "previous": f"{base}?limit=2&offset=0",
    }


async def test_a_page_past_the_end_leaves_the_revisions_key_out_but_keeps_paging(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    body = (await revisions(client, admin, offset=10)).json()

    assert "revisions" not in body
    paging = body["meta"]["paging"]
    assert {k: paging[k] for k in ("currentPageSize", "offset", "totalSize")} == {
        "currentPageSize": 0,
        "offset": 10,
        "totalSize": 4,
    }
    assert "next" not in paging


async def test_page_size_is_capped_at_5000_silently(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await revisions(client, admin, limit=100_000)

    assert response.status_code == 200
    assert response.json()["meta"]["paging"]["currentPageSize"] == 4


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("-name", [seed.R3_ID, seed.R1_ID, seed.R2_ID, seed.R4_ID]),
        ("+name", [seed.R4_ID, seed.R2_ID, seed.R1_ID, seed.R3_ID]),
        ("name", [seed.R4_ID, seed.R2_ID, seed.R1_ID, seed.R3_ID]),
        ("-createdOn", [seed.R4_ID, seed.R3_ID, seed.R2_ID, seed.R1_ID]),
        ("+appliedOn", [seed.R1_ID, seed.R2_ID, seed.R3_ID, seed.R4_ID]),
        ("+id", sorted([seed.R1_ID, seed.R2_ID, seed.R3_ID, seed.R4_ID])),
    ],
)
async def test_revisions_sort_by_a_field_with_an_optional_sign(
    client: httpx2.AsyncClient, admin: dict[str, str], sort: str, expected: list[str]
) -> None:
    response = await revisions(client, admin, sort=sort)

    assert [r["id"] for r in response.json()["revisions"]] == expected


async def test_an_unknown_sort_field_is_400(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    response = await revisions(client, admin, sort="-colour")

    assert response.status_code == 400


async def test_applied_after_and_before_filter_on_when_the_revision_reached_the_model(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    # TEST took R1 on 2025-01-07, R2 on 2025-02-04 and R3 on 2025-03-04.
    response = await revisions(
        client, admin, seed.TEST_MODEL_ID, appliedAfter="2025-02-04", appliedBefore="2025-03-04"
    )

    assert [r["id"] for r in response.json()["revisions"]] == [seed.R2_ID]


@pytest.mark.parametrize("params", [{"appliedAfter": "2025/01/01"}, {"appliedBefore": "yesterday"}])
async def test_a_badly_formatted_date_is_400_with_anaplans_message(
    client: httpx2.AsyncClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    response = await revisions(client, admin, **params)

    assert response.status_code == 400
    assert response.json()["status"]["message"] == "Date query parameter must be of the format 'YYYY-MM-DD'"


async def test_applied_after_must_be_earlier_than_applied_before(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await revisions(client, admin, appliedAfter="2025-03-01", appliedBefore="2025-03-01")

    assert response.status_code == 400
    assert (
        response.json()["status"]["message"] == "'appliedAfter' must be an earlier date than 'appliedBefore'"
    )


# --- create ---------------------------------------------------------------------------------------


async def test_creating_a_revision_tags_the_pending_change_and_becomes_the_latest(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await create(client, admin, {"name": "R5 sandbox", "description": "from a test"})

    assert response.status_code == 201
    body = response.json()
    assert body["status"] == {"code": 201, "message": "Created"}
    revision = body["revision"]
    assert re.fullmatch(r"[0-9A-F]{32}", revision["id"])
    assert revision["name"] == "R5 sandbox"
    assert revision["description"] == "from a test"
    assert revision["creationMethod"] == "User added revision via API"
    assert revision["createdOn"] == revision["appliedOn"] == "2026-05-28T20:26:40Z"
    assert revision["createdBy"] == revision["appliedBy"] == seed.ADMIN_GUID
    latest = await client.get(alm(seed.DEV_MODEL_ID, "latestRevision"), headers=admin)
    assert latest.json()["revisions"][0]["id"] == revision["id"]


async def test_a_second_revision_without_a_new_structural_change_is_400(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await create(client, admin, {"name": "R5"})

    response = await create(client, admin, {"name": "R6"})

    assert response.status_code == 400
    assert "no structural changes" in response.json()["status"]["message"]


async def test_a_structural_change_allows_the_next_revision(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await create(client, admin, {"name": "R5"})
    sandbox.structural_change(seed.DEV_MODEL_ID)

    response = await create(client, admin, {"name": "R6"})

    assert response.status_code == 201


async def test_a_model_without_any_structural_change_cannot_be_tagged(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await create(client, admin, {"name": "U3"}, seed.UNRELATED_MODEL_ID)

    assert response.status_code == 400


async def test_a_model_in_maintenance_is_still_standard_mode_and_can_be_tagged(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    await client.put(
        f"/2/0/models/{seed.DEV_MODEL_ID}/onlineStatus", json={"status": "offline"}, headers=admin
    )

    response = await create(client, admin, {"name": "R5"})

    assert response.status_code == 201


@pytest.mark.parametrize("state", ["PRODUCTION", "LOCKED"])
async def test_revisions_are_refused_outside_standard_mode(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, state: str
) -> None:
    sandbox.set_active_state(seed.DEV_MODEL_ID, state)

    response = await create(client, admin, {"name": "R5"})

    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith(
        "Revision tags can only be added to models in standard mode."
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Error parsing request body as JSON"),
        (b"[]", "Error parsing request body as JSON"),
        (b'{"name": "R5", "colour": "blue"}', "Unrecognised property detected"),
        (b'{"description": "no name"}', "Expected mandatory field 'name'"),
        (b'{"name": ""}', "Expected mandatory field 'name'"),
        (
            ('{"name": "' + "x" * 61 + '"}').encode(),
            "The title of your revision tag must be 60 characters or fewer.",
        ),
        (
            ('{"name": "R5", "description": "' + "x" * 251 + '"}').encode(),
            "Revision tag descriptions must be 250 characters or fewer.",
        ),
    ],
)
async def test_a_bad_revision_body_is_400_with_anaplans_message(
    client: httpx2.AsyncClient, admin: dict[str, str], body: bytes, message: str
) -> None:
    response = await client.post(
        alm(seed.DEV_MODEL_ID, "revisions"), content=body, headers={**admin, **JSON_BODY}
    )

    assert response.status_code == 400
    assert response.json()["status"]["message"] == message


async def test_the_length_limits_are_inclusive(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    response = await create(client, admin, {"name": "x" * 60, "description": "y" * 250})

    assert response.status_code == 201


# --- appliedToModels ------------------------------------------------------------------------------


async def test_applied_to_models_lists_the_origin_first_and_deleted_models_without_names(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(
        alm(seed.TEST_MODEL_ID, f"revisions/{seed.R1_ID}/appliedToModels"), headers=admin
    )

    assert response.status_code == 200
    entries = response.json()["appliedToModels"]
    assert entries[0] == {
        "modelId": seed.DEV_MODEL_ID,
        "modelName": "FP&A DEV",
        "workspaceId": seed.WORKSPACE_ID,
        "appliedBy": seed.ADMIN_GUID,
        "appliedOn": "2025-01-06T09:00:00Z",
        "appliedMethod": "User added revision",
    }
    deleted = next(e for e in entries if e.get("modelDeleted"))
    assert "modelId" not in deleted, "a deleted model's id is left out by default"
    assert "modelName" not in deleted
    assert "workspaceId" not in deleted
    assert all("modelDeleted" not in e and "modelId" in e for e in entries if e is not deleted)
    assert {e["appliedMethod"] for e in entries[1:]} == {"Revision synchronized"}


async def test_applied_to_models_of_a_revision_the_model_never_took_is_404(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(
        alm(seed.PROD_MODEL_ID, f"revisions/{seed.R4_ID}/appliedToModels"), headers=admin
    )

    assert response.status_code == 404


# --- syncable -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "source", "expected"),
    [
        (seed.TEST_MODEL_ID, seed.DEV_MODEL_ID, [seed.R4_ID]),
        (seed.PROD_MODEL_ID, seed.DEV_MODEL_ID, [seed.R4_ID, seed.R3_ID]),
        (seed.PROD_MODEL_ID, seed.TEST_MODEL_ID, [seed.R3_ID]),
    ],
)
async def test_syncable_revisions_are_the_newer_source_revisions_newest_first(
    client: httpx2.AsyncClient, admin: dict[str, str], target: str, source: str, expected: list[str]
) -> None:
    response = await client.get(
        alm(target, "syncableRevisions"), params={"sourceModelId": source}, headers=admin
    )

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["revisions"]] == expected


@pytest.mark.parametrize(
    ("target", "source"),
    [
        (seed.PROD_MODEL_ID, seed.UNRELATED_MODEL_ID),
        (seed.DEV_MODEL_ID, seed.PROD_MODEL_ID),
        (seed.DEV_MODEL_ID, seed.DEV_MODEL_ID),
    ],
)
async def test_no_syncable_revisions_leaves_the_key_out(
    client: httpx2.AsyncClient, admin: dict[str, str], target: str, source: str
) -> None:
    response = await client.get(
        alm(target, "syncableRevisions"), params={"sourceModelId": source}, headers=admin
    )

    assert response.status_code == 200
    assert "revisions" not in response.json()


async def test_syncable_revisions_without_a_source_model_is_400(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(alm(seed.PROD_MODEL_ID, "syncableRevisions"), headers=admin)

    assert response.status_code == 400
    assert response.json()["status"]["message"] == "Missing 'sourceModelId' request parameter."


async def test_syncable_revisions_from_an_unknown_source_model_is_404(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    params = {"sourceModelId": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"}

    response = await client.get(alm(seed.PROD_MODEL_ID, "syncableRevisions"), params=params, headers=admin)

    assert response.status_code == 404
