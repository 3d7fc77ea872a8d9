"""The sandbox mounted under a prefix (as `alm-bot serve --sandbox` does): URLs keep the prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from sandbox_calls import FROZEN_NOW, bearer, pair
from starlette.applications import Starlette
from starlette.routing import Mount

from alm_bot.sandbox import Sandbox, create_app, seed

pytestmark = pytest.mark.anyio

PREFIX = "http://host/sandbox"


@pytest.fixture
def mounted_sandbox() -> Sandbox:
    return Sandbox(task_duration=3.0, rate_limit_per_second=None, clock=lambda: FROZEN_NOW)


@pytest.fixture
async def outer(mounted_sandbox: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    app = Starlette(routes=[Mount("/sandbox", create_app(mounted_sandbox))])
    async with httpx2.AsyncClient(transport=httpx2.ASGITransport(app), base_url="http://host") as http:
        yield http


async def test_a_task_location_under_a_mount_includes_the_prefix_and_resolves(
    outer: httpx2.AsyncClient, mounted_sandbox: Sandbox
) -> None:
    headers = bearer(mounted_sandbox.token_for())
    response = await outer.post(
        f"/sandbox/2/0/models/{seed.TEST_MODEL_ID}/alm/comparisonReportTasks",
        json=pair(seed.R4_ID, seed.R3_ID),
        headers=headers,
    )
    location = response.headers["location"]
    assert location.startswith(f"{PREFIX}/2/0/models/{seed.TEST_MODEL_ID}/alm/comparisonReportTasks/")
    assert response.json()["task"]["taskUrl"] == location
    assert response.json()["meta"]["schema"] == f"{PREFIX}/2/0/objects/taskWithUrl"
    mounted_sandbox.advance(3)

    info = await outer.get(location, headers=headers)
    report_url = info.json()["task"]["result"]["reportFileUrl"]

    assert report_url.startswith(f"{PREFIX}/2/0/models/")
    assert (await outer.get(report_url, headers=headers)).status_code == 200


async def test_the_auth_service_under_a_mount_points_its_validation_url_at_the_prefix(
    outer: httpx2.AsyncClient,
) -> None:
    response = await outer.post("/sandbox/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))

    assert response.status_code == 201
    assert response.json()["meta"]["validationUrl"] == f"{PREFIX}/token/validate"


async def test_model_urls_under_a_mount_include_the_prefix(
    outer: httpx2.AsyncClient, mounted_sandbox: Sandbox
) -> None:
    response = await outer.get(
        f"/sandbox/2/0/models/{seed.DEV_MODEL_ID}", headers=bearer(mounted_sandbox.token_for())
    )

    assert response.json()["model"]["modelUrl"].startswith(f"{PREFIX}/anaplan/")


async def test_faults_and_the_request_log_use_paths_below_the_mount(
    outer: httpx2.AsyncClient, mounted_sandbox: Sandbox
) -> None:
    mounted_sandbox.add_fault("GET", r"^/2/0/models$", status=503)

    response = await outer.get("/sandbox/2/0/models", headers=bearer(mounted_sandbox.token_for()))

    assert response.status_code == 503
    assert [(e.method, e.path, e.status) for e in mounted_sandbox.request_log] == [
        ("GET", "/2/0/models", 503)
    ]
    log = (await outer.get("/sandbox/_sandbox/requests")).json()["requests"]
    assert log == [{"method": "GET", "path": "/2/0/models", "status": 503, "time": FROZEN_NOW}]
