"""Who may call what: 403 / 424 without Workspace Administrator, 422 on archived, 404 on unknown."""

from __future__ import annotations

from typing import Any, NamedTuple

import httpx2
import pytest
from sandbox_calls import pair

from alm_bot.sandbox import seed

pytestmark = pytest.mark.anyio

UNKNOWN_MODEL = "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF"
SOME_TASK = "0123456789ABCDEF0123456789ABCDEF"


class Endpoint(NamedTuple):
    method: str
    path: str
    """Below ``/2/0/models/{model}/``."""
    body: Any
    report: bool


ENDPOINTS = [
    Endpoint("PUT", "onlineStatus", {"status": "offline"}, report=False),
    Endpoint("GET", "alm/latestRevision", None, report=False),
    Endpoint("GET", "alm/revisions", None, report=False),
    Endpoint("POST", "alm/revisions", {"name": "R5"}, report=False),
    Endpoint("GET", f"alm/revisions/{seed.R1_ID}/appliedToModels", None, report=False),
    Endpoint("GET", f"alm/syncableRevisions?sourceModelId={seed.DEV_MODEL_ID}", None, report=False),
    Endpoint("POST", "alm/syncTasks", pair(seed.R4_ID, seed.R1_ID), report=False),
    Endpoint("GET", "alm/syncTasks", None, report=False),
    Endpoint("GET", f"alm/syncTasks/{SOME_TASK}", None, report=False),
    Endpoint("POST", "alm/comparisonReportTasks", pair(seed.R4_ID, seed.R1_ID), report=True),
    Endpoint("GET", f"alm/comparisonReportTasks/{SOME_TASK}", None, report=True),
    Endpoint("GET", f"alm/comparisonReports/{seed.R1_ID}/{seed.R4_ID}", None, report=True),
    Endpoint("POST", "alm/summaryReportTasks", pair(seed.R4_ID, seed.R1_ID), report=True),
    Endpoint("GET", f"alm/summaryReportTasks/{SOME_TASK}", None, report=True),
    Endpoint("GET", f"alm/summaryReports/{seed.R1_ID}/{seed.R4_ID}", None, report=True),
]
IDS = [f"{e.method} {e.path.split('?')[0]}" for e in ENDPOINTS]


async def call(
    client: httpx2.AsyncClient, headers: dict[str, str], endpoint: Endpoint, model_id: str
) -> httpx2.Response:
    url = f"/2/0/models/{model_id}/{endpoint.path}"
    return await client.request(endpoint.method, url, json=endpoint.body, headers=headers)


def test_the_matrix_covers_all_fifteen_alm_endpoints() -> None:
    assert len(ENDPOINTS) == 15
    assert sum(e.report for e in ENDPOINTS) == 6


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_a_user_without_workspace_admin_gets_403_or_424_on_report_endpoints(
    client: httpx2.AsyncClient, viewer: dict[str, str], endpoint: Endpoint
) -> None:
    response = await call(client, viewer, endpoint, seed.TEST_MODEL_ID)

    if endpoint.report:
        assert response.status_code == 424
        assert response.json()["status"] == {"code": 424, "message": ""}
    else:
        assert response.status_code == 403
        assert response.json()["status"]["message"]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_a_model_in_a_workspace_where_the_user_is_not_admin_is_refused(
    client: httpx2.AsyncClient, admin: dict[str, str], endpoint: Endpoint
) -> None:
    response = await call(client, admin, endpoint, seed.FOREIGN_MODEL_ID)

    assert response.status_code == (424 if endpoint.report else 403)


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        (Endpoint("POST", "alm/syncTasks", pair(seed.R1_ID, seed.R3_ID, seed.FOREIGN_MODEL_ID), False), 403),
        (
            Endpoint(
                "POST", "alm/comparisonReportTasks", pair(seed.R1_ID, seed.R3_ID, seed.FOREIGN_MODEL_ID), True
            ),
            424,
        ),
        (
            Endpoint(
                "POST", "alm/summaryReportTasks", pair(seed.R1_ID, seed.R3_ID, seed.FOREIGN_MODEL_ID), True
            ),
            424,
        ),
        (Endpoint("GET", f"alm/syncableRevisions?sourceModelId={seed.FOREIGN_MODEL_ID}", None, False), 403),
    ],
    ids=["sync", "comparison", "summary", "syncable"],
)
async def test_cross_model_calls_need_workspace_admin_on_the_source_too(
    client: httpx2.AsyncClient, admin: dict[str, str], endpoint: Endpoint, expected: int
) -> None:
    response = await call(client, admin, endpoint, seed.TEST_MODEL_ID)

    assert response.status_code == expected


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_every_alm_endpoint_answers_422_for_an_archived_model(
    client: httpx2.AsyncClient, admin: dict[str, str], endpoint: Endpoint
) -> None:
    response = await call(client, admin, endpoint, seed.ARCHIVED_MODEL_ID)

    assert response.status_code == 422
    assert response.json()["status"] == {"code": 422, "message": "Model is Archived"}


@pytest.mark.parametrize(
    "path",
    ["alm/syncTasks", "alm/comparisonReportTasks", "alm/summaryReportTasks"],
)
async def test_an_archived_source_model_is_422(
    client: httpx2.AsyncClient, admin: dict[str, str], path: str
) -> None:
    body = pair(seed.R1_ID, seed.R3_ID, seed.ARCHIVED_MODEL_ID)

    response = await client.post(f"/2/0/models/{seed.TEST_MODEL_ID}/{path}", json=body, headers=admin)

    assert response.status_code == 422


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_every_alm_endpoint_answers_404_for_an_unknown_model(
    client: httpx2.AsyncClient, admin: dict[str, str], endpoint: Endpoint
) -> None:
    response = await call(client, admin, endpoint, UNKNOWN_MODEL)

    assert response.status_code == 404
    assert response.json()["path"] == f"/2/0/models/{UNKNOWN_MODEL}/{endpoint.path.split('?')[0]}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=IDS)
async def test_every_alm_endpoint_needs_a_token(client: httpx2.AsyncClient, endpoint: Endpoint) -> None:
    response = await call(client, {}, endpoint, seed.TEST_MODEL_ID)

    assert response.status_code == 401
