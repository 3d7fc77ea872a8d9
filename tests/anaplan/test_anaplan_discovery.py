"""Discovery through the Integration API: workspaces, all models or a workspace's, one model."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
from anaplan_fakes import SOURCE, TARGET, WORKSPACE, FakeAnaplan, envelope

from alm_bot.anaplan import AnaplanClient, Model

pytestmark = pytest.mark.anyio


def model(mid: str, name: str, state: str = "UNLOCKED", **extra: Any) -> dict[str, Any]:
    return {
        "id": mid,
        "name": name,
        "activeState": state,
        "currentWorkspaceId": WORKSPACE,
        "currentWorkspaceName": "FP&A",
        "modelUrl": f"https://us1a.app.anaplan.com/core?model={mid}",
        "categoryValues": [],
        **extra,
    }


async def test_list_models_asks_for_model_details_and_reads_every_page(
    fake: FakeAnaplan, client: AnaplanClient
) -> None:
    models = [
        model(SOURCE, "FP&A Dev"),
        model(TARGET, "FP&A Prod", "PRODUCTION"),
        model("C" * 32, "Old", "ARCHIVED"),
    ]

    def page(request: httpx2.Request) -> httpx2.Response:
        offset = int(request.url.params["offset"])
        chunk = models[offset : offset + 2]
        return envelope(
            "models",
            chunk,
            meta={"paging": {"currentPageSize": len(chunk), "offset": offset, "totalSize": 3}},
        )

    fake.on("GET", "/models", page)

    listed = await client.list_models()

    assert [m.name for m in listed] == ["FP&A Dev", "FP&A Prod", "Old"]
    assert [dict(r.url.params) for r in fake.api_calls()] == [
        {"modelDetails": "true", "limit": "5000", "offset": "0"},
        {"modelDetails": "true", "limit": "5000", "offset": "2"},
    ]
    assert listed[1].is_deployed
    assert listed[1].is_online
    assert listed[2].mode == "archived"


async def test_list_models_of_a_workspace_uses_the_workspace_path(
    fake: FakeAnaplan, client: AnaplanClient
) -> None:
    fake.on("GET", f"/workspaces/{WORKSPACE}/models", envelope("models", [model(SOURCE, "FP&A Dev")]))

    listed = await client.list_models(WORKSPACE)

    assert [m.id for m in listed] == [SOURCE]
    assert fake.api_calls()[0].url.params["modelDetails"] == "true"


async def test_list_models_without_the_models_key_is_an_empty_list(
    fake: FakeAnaplan, client: AnaplanClient
) -> None:
    fake.on("GET", "/models", envelope())

    assert await client.list_models() == []


async def test_get_model_reads_the_singular_model_with_anaplans_dates(
    fake: FakeAnaplan, client: AnaplanClient
) -> None:
    details = model(
        TARGET,
        "FP&A Prod",
        "PRODUCTION_MAINTENANCE",
        isoCreationDate="2017-11-13T21:20:10.000+0000",
        lastModified="2024-01-02T03:04:05.000+0000",
        modelTransactionRunning=False,
        memoryUsage=123456,
    )
    fake.on("GET", f"/models/{TARGET}", envelope("model", details))

    found = await client.get_model(TARGET)

    assert isinstance(found, Model)
    assert found.iso_creation_date == datetime(2017, 11, 13, 21, 20, 10, tzinfo=UTC)
    assert found.is_deployed
    assert not found.is_online
    assert fake.api_calls()[0].url.params["modelDetails"] == "true"


async def test_list_workspaces_reads_every_workspace(fake: FakeAnaplan, client: AnaplanClient) -> None:
    workspaces = [
        {"id": WORKSPACE, "name": "FP&A", "active": True},
        {"id": "b" * 32, "name": "Sales", "active": False},
    ]
    fake.on("GET", "/workspaces", envelope("workspaces", workspaces))

    listed = await client.list_workspaces()

    assert [(w.name, w.active) for w in listed] == [("FP&A", True), ("Sales", False)]
    assert fake.api_calls()[0].url.params["limit"] == "5000"


async def test_the_client_closes_its_connection_pool(fake: FakeAnaplan) -> None:
    from anaplan_fakes import FakeTime, make_client

    client = make_client(fake, FakeTime())
    await client.aclose()

    with pytest.raises(RuntimeError):
        await client.list_workspaces()
