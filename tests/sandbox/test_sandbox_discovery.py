"""Model discovery on the sandbox: workspaces and models, details, paging, sorting, visibility."""

from __future__ import annotations

import re

import httpx2
import pytest

from alm_bot.sandbox import Sandbox, seed

pytestmark = pytest.mark.anyio

FPA_MODELS = {
    seed.DEV_MODEL_ID,
    seed.TEST_MODEL_ID,
    seed.PROD_MODEL_ID,
    seed.ARCHIVED_MODEL_ID,
    seed.UNRELATED_MODEL_ID,
}


async def test_workspaces_list_both_seed_workspaces_with_tenant_details(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/2/0/workspaces", params={"tenantDetails": "true"}, headers=admin)

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == {"code": 200, "message": "Success"}
    assert body["meta"]["paging"] == {"currentPageSize": 2, "offset": 0, "totalSize": 2}
    by_name = {w["name"]: w for w in body["workspaces"]}
    assert set(by_name) == {"FP&A", "Sales Ops"}
    fpa = by_name["FP&A"]
    assert fpa["id"] == seed.WORKSPACE_ID
    assert fpa["active"] is True
    assert fpa["sizeAllowance"] == 10 * 1024**3
    assert 0 < fpa["currentSize"] < fpa["sizeAllowance"]


async def test_workspaces_leave_sizes_out_without_tenant_details(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/2/0/workspaces", headers=admin)

    assert all(set(w) == {"id", "name", "active"} for w in response.json()["workspaces"])


async def test_workspaces_sort_by_name_descending(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/2/0/workspaces", params={"sort": "-name"}, headers=admin)

    assert [w["name"] for w in response.json()["workspaces"]] == ["Sales Ops", "FP&A"]


async def test_one_workspace_by_id_and_404_for_an_unknown_one(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    found = await client.get(f"/2/0/workspaces/{seed.WORKSPACE_ID}", headers=admin)
    missing = await client.get("/2/0/workspaces/00000000000000000000000000000000", headers=admin)

    assert found.json()["workspace"]["name"] == "FP&A"
    assert missing.status_code == 404
    assert missing.json()["status"]["code"] == 404


async def test_models_list_every_live_model_and_never_the_deleted_one(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/2/0/models", headers=admin)

    ids = {m["id"] for m in response.json()["models"]}
    assert ids == FPA_MODELS | {seed.FOREIGN_MODEL_ID}
    assert seed.DELETED_MODEL_ID not in ids


async def test_models_of_a_workspace_are_only_that_workspaces_models(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(f"/2/0/workspaces/{seed.WORKSPACE_ID}/models", headers=admin)

    assert {m["id"] for m in response.json()["models"]} == FPA_MODELS


async def test_model_fields_follow_the_integration_api_formats(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/2/0/models", params={"modelDetails": "true"}, headers=admin)

    dev = next(m for m in response.json()["models"] if m["id"] == seed.DEV_MODEL_ID)
    assert dev["name"] == "FP&A DEV"
    assert dev["activeState"] == "UNLOCKED"
    assert dev["currentWorkspaceId"] == seed.WORKSPACE_ID
    assert dev["currentWorkspaceName"] == "FP&A"
    assert dev["modelUrl"].startswith("http://sandbox/")
    assert dev["categoryValues"][0]["categoryName"] == "Business Function"
    assert re.fullmatch(r"[0-9A-F]{32}", dev["id"])
    assert re.fullmatch(r"[0-9a-f]{32}", dev["currentWorkspaceId"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", dev["isoCreationDate"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", dev["lastModified"])
    assert isinstance(dev["lastSavedSerialNumber"], int)
    assert isinstance(dev["memoryUsage"], int)
    assert dev["lastModifiedByUserGuid"] == seed.ADMIN_GUID
    assert "modelTransactionRunning" not in dev


async def test_models_without_model_details_carry_only_the_basic_fields(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get("/2/0/models", headers=admin)

    basic = {
        "id",
        "name",
        "activeState",
        "currentWorkspaceId",
        "currentWorkspaceName",
        "modelUrl",
        "categoryValues",
    }
    assert all(set(m) == basic for m in response.json()["models"])


async def test_models_page_with_limit_and_offset(client: httpx2.AsyncClient, admin: dict[str, str]) -> None:
    first = await client.get("/2/0/models", params={"limit": 4, "sort": "+name"}, headers=admin)
    second = await client.get("/2/0/models", params={"limit": 4, "offset": 4, "sort": "+name"}, headers=admin)

    assert first.json()["meta"]["paging"] == {
        "currentPageSize": 4,
        "offset": 0,
        "totalSize": 6,
        "next": "http://sandbox/2/0/models?sort=%2Bname&limit=4&offset=4",
    }
    assert second.json()["meta"]["paging"] == {
        "currentPageSize": 2,
        "offset": 4,
        "totalSize": 6,
        "previous": "http://sandbox/2/0/models?sort=%2Bname&limit=4&offset=0",
    }
    names = [m["name"] for m in first.json()["models"] + second.json()["models"]]
    assert names == sorted(names, key=str.lower)
    assert len(set(names)) == 6


async def test_one_model_by_id_adds_model_transaction_running_with_model_details(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.get(
        f"/2/0/models/{seed.PROD_MODEL_ID}", params={"modelDetails": "true"}, headers=admin
    )

    assert response.status_code == 200
    model = response.json()["model"]
    assert model["activeState"] == "PRODUCTION"
    assert model["modelTransactionRunning"] is False


async def test_model_transaction_running_is_true_while_a_sync_into_the_model_runs(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    body = {
        "sourceRevisionId": seed.R4_ID,
        "sourceModelId": seed.DEV_MODEL_ID,
        "targetRevisionId": seed.R3_ID,
    }
    await client.post(f"/2/0/models/{seed.TEST_MODEL_ID}/alm/syncTasks", json=body, headers=admin)
    url, params = f"/2/0/models/{seed.TEST_MODEL_ID}", {"modelDetails": "true"}

    running = await client.get(url, params=params, headers=admin)
    sandbox.advance(3)
    done = await client.get(url, params=params, headers=admin)

    assert running.json()["model"]["modelTransactionRunning"] is True
    assert done.json()["model"]["modelTransactionRunning"] is False


@pytest.mark.parametrize("model_id", [seed.DELETED_MODEL_ID, "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"])
async def test_an_unknown_or_deleted_model_is_404(
    client: httpx2.AsyncClient, admin: dict[str, str], model_id: str
) -> None:
    response = await client.get(f"/2/0/models/{model_id}", headers=admin)

    assert response.status_code == 404


@pytest.mark.parametrize("params", [{"limit": "x"}, {"offset": "-1"}, {"limit": "0"}, {"sort": "+colour"}])
async def test_bad_paging_or_sort_parameters_are_400(
    client: httpx2.AsyncClient, admin: dict[str, str], params: dict[str, str]
) -> None:
    response = await client.get("/2/0/models", params=params, headers=admin)

    assert response.status_code == 400


async def test_a_viewer_still_sees_the_models_of_workspaces_it_belongs_to(
    client: httpx2.AsyncClient, viewer: dict[str, str]
) -> None:
    response = await client.get("/2/0/models", headers=viewer)

    assert len(response.json()["models"]) == 6
