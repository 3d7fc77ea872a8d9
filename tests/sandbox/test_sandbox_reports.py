"""Comparison and summary reports on the sandbox: tasks, downloads, contents, retention."""

from __future__ import annotations

from collections import Counter

import httpx2
import pytest
from sandbox_calls import alm, bearer, pair, start, task

from alm_bot.sandbox import Sandbox, seed

pytestmark = pytest.mark.anyio

DEV_TO_TEST = pair(seed.R4_ID, seed.R3_ID)
COMPARISON_URL = (
    f"http://sandbox/2/0/models/{seed.TEST_MODEL_ID}/alm/comparisonReports/{seed.R3_ID}/{seed.R4_ID}"
)
SUMMARY_URL = f"http://sandbox/2/0/models/{seed.TEST_MODEL_ID}/alm/summaryReports/{seed.R3_ID}/{seed.R4_ID}"


async def finished_report(
    client: httpx2.AsyncClient,
    headers: dict[str, str],
    sandbox: Sandbox,
    collection: str,
    body: dict[str, str],
) -> dict[str, object]:
    url = await start(client, headers, seed.TEST_MODEL_ID, collection, body)
    sandbox.advance(3)
    return await task(client, headers, url)


async def download(
    client: httpx2.AsyncClient, headers: dict[str, str], accept: str = "*/*"
) -> httpx2.Response:
    return await client.get(COMPARISON_URL, headers=headers | {"Accept": accept})


def sections(text: str) -> dict[str, list[list[str]]]:
    """``=== TITLE ===`` → rows (header row first)."""
    found: dict[str, list[list[str]]] = {}
    current: list[list[str]] | None = None
    for line in text.splitlines()[6:]:
        if line.startswith("=== "):
            current = found.setdefault(line.strip("= "), [])
        elif line and current is not None:
            current.append(line.split("\t"))
    return found


# --- tasks ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("collection", "report_url"),
    [("comparisonReportTasks", COMPARISON_URL), ("summaryReportTasks", SUMMARY_URL)],
)
async def test_a_report_task_completes_with_the_url_of_its_report(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, collection: str, report_url: str
) -> None:
    response = await client.post(alm(seed.TEST_MODEL_ID, collection), json=DEV_TO_TEST, headers=admin)
    assert response.status_code == 201
    assert response.headers["location"].startswith(
        f"http://sandbox/2/0/models/{seed.TEST_MODEL_ID}/alm/{collection}/"
    )
    sandbox.advance(3)

    info = await client.get(response.headers["location"], headers=admin)

    assert info.json()["meta"] == {"schema": "http://sandbox/2/0/objects/syncTask"}
    assert info.json()["task"]["result"] == {
        "successful": True,
        "sourceRevisionId": seed.R4_ID,
        "targetRevisionId": seed.R3_ID,
        "reportFileUrl": report_url,
    }


async def test_a_report_task_for_an_incompatible_pair_completes_unsuccessfully(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    body = pair(seed.U2_ID, seed.R3_ID, seed.UNRELATED_MODEL_ID)

    done = await finished_report(client, admin, sandbox, "comparisonReportTasks", body)

    result = done["result"]
    assert isinstance(result, dict)
    assert result["successful"] is False
    assert result["error"]["title"] == "The target and source revisions are incompatible"
    assert "reportFileUrl" not in result
    assert (result["sourceRevisionId"], result["targetRevisionId"]) == (seed.U2_ID, seed.R3_ID)


async def test_comparison_task_ids_do_not_resolve_as_summary_tasks(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    url = await start(client, admin, seed.TEST_MODEL_ID, "comparisonReportTasks", DEV_TO_TEST)

    response = await client.get(url.replace("comparisonReportTasks", "summaryReportTasks"), headers=admin)

    assert response.status_code == 404


async def test_a_report_task_body_is_checked_like_a_sync_body(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post(
        alm(seed.TEST_MODEL_ID, "summaryReportTasks"), json={"sourceModelId": "X"}, headers=admin
    )

    assert response.status_code == 400
    assert response.json()["status"]["message"].startswith("Expected mandatory fields")


# --- comparison report download ----------------------------------------------------------------------


async def test_the_comparison_report_is_tab_separated_text_with_the_documented_layout(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await finished_report(client, admin, sandbox, "comparisonReportTasks", DEV_TO_TEST)

    response = await download(client, admin)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    lines = response.text.splitlines()
    assert [line.split("\t")[0] for line in lines[:6]] == [
        "Source Workspace",
        "Source Model",
        "Source Revision",
        "Target Workspace",
        "Target Model",
        "Target Revision",
    ]
    assert lines[2].split("\t")[1:] == [seed.R4_NAME, seed.R4_ID]
    assert lines[4].split("\t")[1:] == ["FP&A TEST", seed.TEST_MODEL_ID]
    found = sections(response.text)
    assert list(found) == [
        "LISTS ADDED",
        "CHANGES WITHIN LISTS",
        "MODULES ADDED",
        "LINE ITEMS ADDED",
        "ROLES CHANGED",
    ]
    assert found["CHANGES WITHIN LISTS"][0][:3] == ["List", "Items Added/Moved", "Items Deleted"]
    assert found["MODULES ADDED"] == [["Name", "Applies To"], ["CPX01 Capex", "Assets, Time"]]
    assert found["LINE ITEMS ADDED"][0] == ["Module", "Name", "Format", "Formula"]


@pytest.mark.parametrize("accept", ["*/*", "application/octet-stream", "application/json, */*;q=0.1", ""])
async def test_the_download_accepts_octet_stream_or_anything(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, accept: str
) -> None:
    await finished_report(client, admin, sandbox, "comparisonReportTasks", DEV_TO_TEST)

    assert (await download(client, admin, accept)).status_code == 200


@pytest.mark.parametrize("accept", ["application/json", "text/plain"])
async def test_the_download_refuses_json_or_plain_text_with_406(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, accept: str
) -> None:
    await finished_report(client, admin, sandbox, "comparisonReportTasks", DEV_TO_TEST)

    response = await download(client, admin, accept)

    assert response.status_code == 406


async def test_a_report_is_404_until_its_task_has_finished(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await start(client, admin, seed.TEST_MODEL_ID, "comparisonReportTasks", DEV_TO_TEST)
    assert (await download(client, admin)).status_code == 404

    sandbox.advance(3)

    assert (await download(client, admin)).status_code == 200, "finished without anybody polling the task"


async def test_a_report_is_only_found_under_its_own_target_model(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await finished_report(client, admin, sandbox, "comparisonReportTasks", DEV_TO_TEST)

    response = await client.get(COMPARISON_URL.replace(seed.TEST_MODEL_ID, seed.PROD_MODEL_ID), headers=admin)

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("collection", "url"), [("comparisonReportTasks", COMPARISON_URL), ("summaryReportTasks", SUMMARY_URL)]
)
async def test_reports_expire_48_hours_after_generation_even_when_read(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox, collection: str, url: str
) -> None:
    await finished_report(client, admin, sandbox, collection, DEV_TO_TEST)
    sandbox.advance(48 * 3600 - 1)
    fresh = bearer(sandbox.token_for())
    assert (await client.get(url, headers=fresh)).status_code == 200

    sandbox.advance(1)

    assert (await client.get(url, headers=fresh)).status_code == 404


# --- summary ----------------------------------------------------------------------------------------


async def test_the_summary_counts_the_changes_of_the_revisions_between_target_and_source(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    await finished_report(client, admin, sandbox, "summaryReportTasks", DEV_TO_TEST)

    response = await client.get(SUMMARY_URL, headers=admin)

    assert response.json()["meta"] == {"schema": "http://sandbox/2/0/objects/summaryReport"}
    assert response.json()["summaryReport"] == {
        "targetRevisionId": seed.R3_ID,
        "sourceRevisionId": seed.R4_ID,
        "totals": {"modified": 2, "deleted": 0, "created": 6},
        "differences": {
            "lists": {"created": 1, "modified": 1},
            "modules": {"created": 1},
            "lineItems": {"created": 4},
            "rolesContents": {"modified": 1},
        },
    }


async def test_the_summary_totals_are_the_sum_of_the_differences_and_match_the_report_rows(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    # PROD sits at R2, so DEV's R3 and R4 both lie between: a wider change set.
    body = pair(seed.R4_ID, seed.R2_ID)
    for collection in ("summaryReportTasks", "comparisonReportTasks"):
        await start(client, admin, seed.PROD_MODEL_ID, collection, body)
    sandbox.advance(3)
    base = f"/2/0/models/{seed.PROD_MODEL_ID}/alm"

    summary = (await client.get(f"{base}/summaryReports/{seed.R2_ID}/{seed.R4_ID}", headers=admin)).json()[
        "summaryReport"
    ]
    report = (await client.get(f"{base}/comparisonReports/{seed.R2_ID}/{seed.R4_ID}", headers=admin)).text

    totals: Counter[str] = Counter()
    for counts in summary["differences"].values():
        assert all(n > 0 for n in counts.values()), "zero counts are left out"
        totals.update(counts)
    assert summary["totals"] == {key: totals[key] for key in ("modified", "deleted", "created")}
    rows = sum(len(section) - 1 for section in sections(report).values())
    assert rows == sum(summary["totals"].values())
    assert summary["differences"]["listSubsets"] == {"created": 1}


async def test_a_new_revision_reports_its_synthetic_structural_changes(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    sandbox.structural_change(seed.DEV_MODEL_ID)  # the seed has one pending already: now two
    created = await client.post(alm(seed.DEV_MODEL_ID, "revisions"), json={"name": "R5"}, headers=admin)
    r5 = created.json()["revision"]["id"]
    body = {"sourceRevisionId": r5, "sourceModelId": seed.DEV_MODEL_ID, "targetRevisionId": seed.R4_ID}
    await start(client, admin, seed.DEV_MODEL_ID, "comparisonReportTasks", body)
    sandbox.advance(3)

    text = (
        await client.get(alm(seed.DEV_MODEL_ID, f"comparisonReports/{seed.R4_ID}/{r5}"), headers=admin)
    ).text

    found = sections(text)
    assert found["LINE ITEMS ADDED"][1][1] == "Sandbox Line Item 1"
    assert found["MODULES ADDED"][1][0] == "SYS02 Sandbox Module 2"


async def test_report_tasks_are_404_48_hours_after_they_finish(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    url = await start(client, admin, seed.TEST_MODEL_ID, "summaryReportTasks", DEV_TO_TEST)
    sandbox.advance(3 + 48 * 3600)

    assert (await client.get(url, headers=bearer(sandbox.token_for()))).status_code == 404


async def test_summary_totals_keep_zero_counts_while_differences_leave_them_out(
    client: httpx2.AsyncClient, admin: dict[str, str], sandbox: Sandbox
) -> None:
    body = pair(seed.U2_ID, seed.U1_ID, seed.UNRELATED_MODEL_ID)
    await start(client, admin, seed.UNRELATED_MODEL_ID, "summaryReportTasks", body)
    sandbox.advance(3)

    response = await client.get(
        alm(seed.UNRELATED_MODEL_ID, f"summaryReports/{seed.U1_ID}/{seed.U2_ID}"), headers=admin
    )

    summary = response.json()["summaryReport"]
    assert summary["totals"] == {"modified": 0, "deleted": 0, "created": 1}
    assert summary["differences"] == {"lineItems": {"created": 1}}


async def test_the_accept_header_is_checked_before_the_report_is_looked_up(
    client: httpx2.AsyncClient, admin: dict[str, str]
) -> None:
    response = await download(client, admin, "application/json")

    assert response.status_code == 406
