"""The sandbox is as sparse and as strict as Anaplan's documentation by default; each switch has two sides."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager

import httpx2
import pytest
from sandbox_calls import FROZEN_NOW, alm, bearer, pair, start, task

from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def tenant(
    fidelity: Fidelity | None = None, **options: float | None
) -> AsyncIterator[tuple[httpx2.AsyncClient, dict[str, str], Sandbox]]:
    sandbox = Sandbox(rate_limit_per_second=None, clock=lambda: FROZEN_NOW, fidelity=fidelity, **options)  # type: ignore[arg-type]
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        yield client, bearer(sandbox.token_for()), sandbox


async def _sync_results(fidelity: Fidelity, count: int) -> list[dict[str, object]]:
    """Start ``count`` syncs one after the other (each finished before the next) and read each result."""
    results = []
    async with tenant(fidelity) as (client, admin, sandbox):
        for _ in range(count):
            url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R1_ID, seed.R2_ID))
            sandbox.advance(3)
            results.append(await task(client, admin, url))
    return results


# --- tasks ----------------------------------------------------------------------------------------


async def test_by_default_tasks_are_in_progress_then_complete_and_never_carry_progress() -> None:
    async with tenant() as (client, admin, sandbox):
        urls = [
            await start(client, admin, seed.PROD_MODEL_ID, "summaryReportTasks", pair(seed.R4_ID, seed.R2_ID))
            for _ in range(12)
        ]
        running = [await task(client, admin, url) for url in urls]
        sandbox.advance(3)
        done = [await task(client, admin, url) for url in urls]

    assert {t["taskState"] for t in running} == {"IN_PROGRESS"}
    assert {t["taskState"] for t in done} == {"COMPLETE"}
    assert not any("progress" in t for t in running + done)
    with_step = ["currentStep" in t for t in running]
    assert set(with_step) == {True, False}, "currentStep is present on some tasks only"


async def test_current_step_can_be_pinned_to_always_or_never() -> None:
    always = await _sync_results(Fidelity(current_step="always"), 3)
    never = await _sync_results(Fidelity(current_step="never"), 3)

    assert all(t["currentStep"] == "Failed." for t in always), "R1 onto R2 is incompatible"
    assert not any("currentStep" in t for t in never)


async def test_by_default_results_mix_the_minimal_and_the_rich_documented_shapes_reproducibly() -> None:
    def shapes(fidelity: Fidelity) -> Awaitable[list[frozenset[str]]]:
        async def read() -> list[frozenset[str]]:
            return [frozenset(t["result"]) for t in await _sync_results(fidelity, 10)]  # type: ignore[arg-type]

        return read()

    first, again, other = await shapes(Fidelity()), await shapes(Fidelity()), await shapes(Fidelity(seed=7))

    minimal, rich = (
        frozenset({"successful", "error"}),
        frozenset({"successful", "error", "sourceRevisionId", "targetRevisionId"}),
    )
    assert set(first) == {minimal, rich}, "both documented shapes occur"
    assert first == again, "the same seed gives the same mix"
    assert first != other, "another seed gives another mix"


async def test_result_shapes_can_be_pinned() -> None:
    """R1 onto PROD (latest R2) is incompatible: a failed result, minimal or rich."""
    minimal = [t["result"] for t in await _sync_results(Fidelity(result_shapes="minimal"), 2)]
    rich = [t["result"] for t in await _sync_results(Fidelity(result_shapes="rich"), 2)]

    assert all(set(r) == {"successful", "error"} for r in minimal)  # type: ignore[arg-type]
    assert all(r["sourceRevisionId"] == seed.R1_ID for r in rich)  # type: ignore[index]


async def test_a_minimal_successful_sync_result_is_just_successful_true() -> None:
    async with tenant(Fidelity(result_shapes="minimal")) as (client, admin, sandbox):
        url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
        sandbox.advance(3)
        done = await task(client, admin, url)
        report = await start(
            client, admin, seed.PROD_MODEL_ID, "summaryReportTasks", pair(seed.R4_ID, seed.R4_ID)
        )
        sandbox.advance(3)
        summary = await task(client, admin, report)

    assert done["result"] == {"successful": True}
    assert set(summary["result"]) >= {"successful"}


# --- revisions ------------------------------------------------------------------------------------


@pytest.mark.parametrize("applied", [False, True])
async def test_the_revision_list_leaves_out_applied_on_unless_switched_on(applied: bool) -> None:
    async with tenant(Fidelity(revision_list_applied=applied)) as (client, admin, _):
        listed = (await client.get(alm(seed.DEV_MODEL_ID, "revisions"), headers=admin)).json()["revisions"]
        latest = (await client.get(alm(seed.DEV_MODEL_ID, "latestRevision"), headers=admin)).json()

    assert all(("appliedOn" in r and "appliedBy" in r) is applied for r in listed)
    assert "appliedOn" in latest["revisions"][0], "other revision endpoints keep them"


@pytest.mark.parametrize("keep", [False, True])
async def test_a_deleted_model_in_applied_to_models_has_no_model_id_unless_switched_on(keep: bool) -> None:
    async with tenant(Fidelity(deleted_model_ids=keep)) as (client, admin, _):
        response = await client.get(
            alm(seed.DEV_MODEL_ID, f"revisions/{seed.R1_ID}/appliedToModels"), headers=admin
        )

    deleted = next(e for e in response.json()["appliedToModels"] if e.get("modelDeleted"))
    assert ("modelId" in deleted) is keep


# --- content negotiation --------------------------------------------------------------------------


@pytest.mark.parametrize("strict", [True, False])
async def test_a_json_post_without_content_type_json_is_415_unless_switched_off(strict: bool) -> None:
    body = b'{"name": "R5"}'
    async with tenant(Fidelity(require_json_content_type=strict)) as (client, admin, _):
        bare = await client.post(alm(seed.DEV_MODEL_ID, "revisions"), content=body, headers=admin)
        text = await client.post(
            alm(seed.DEV_MODEL_ID, "revisions"), content=body, headers={**admin, "Content-Type": "text/plain"}
        )
        typed = await client.post(
            alm(seed.DEV_MODEL_ID, "revisions"),
            content=body,
            headers={**admin, "Content-Type": "application/json; charset=utf-8"},
        )

    if strict:
        assert (bare.status_code, text.status_code) == (415, 415)
        assert "Content-Type: application/json" in bare.json()["status"]["message"]
        assert typed.status_code == 201
    else:
        assert bare.status_code == 201
        assert text.status_code == 400, "no structural change left after the first revision"


@pytest.mark.parametrize("honour", [True, False])
async def test_an_accept_header_that_rules_out_json_is_406_unless_switched_off(honour: bool) -> None:
    async with tenant(Fidelity(honour_accept=honour)) as (client, admin, _):
        xml = await client.get("/2/0/models", headers={**admin, "Accept": "application/xml"})
        star = await client.get("/2/0/models", headers={**admin, "Accept": "text/html, */*;q=0.1"})
        json = await client.get("/2/0/models", headers={**admin, "Accept": "application/json"})

    assert xml.status_code == (406 if honour else 200)
    assert (star.status_code, json.status_code) == (200, 200)


# --- model busy, status, paging, dates ------------------------------------------------------------


@pytest.mark.parametrize("busy", [True, False])
async def test_a_second_sync_during_a_sync_is_409_unless_switched_off(busy: bool) -> None:
    async with tenant(Fidelity(model_busy=busy)) as (client, admin, _):
        await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R3_ID, seed.R2_ID))
        second = await client.post(
            alm(seed.PROD_MODEL_ID, "syncTasks"), json=pair(seed.R4_ID, seed.R2_ID), headers=admin
        )

    assert second.status_code == (409 if busy else 201)


async def test_the_model_status_endpoint_says_whether_a_sync_is_running() -> None:
    async with tenant() as (client, admin, sandbox):
        idle = (await client.get(f"/2/0/models/{seed.PROD_MODEL_ID}/status", headers=admin)).json()
        url = await start(client, admin, seed.PROD_MODEL_ID, "syncTasks", pair(seed.R4_ID, seed.R2_ID))
        busy = (await client.get(f"/2/0/models/{seed.PROD_MODEL_ID}/status", headers=admin)).json()
        sandbox.advance(3)
        after = (await client.get(f"/2/0/models/{seed.PROD_MODEL_ID}/status", headers=admin)).json()

    assert idle["requestStatus"] == {"currentStep": "Open", "progress": -1.0, "tooltip": ""}
    assert busy["requestStatus"]["taskId"] == url.rsplit("/", 1)[1]
    assert after["requestStatus"]["currentStep"] == "Open"


@pytest.mark.parametrize("links", [True, False])
async def test_paging_links_appear_only_when_switched_on(links: bool) -> None:
    async with tenant(Fidelity(paging_links=links)) as (client, admin, _):
        page = (
            await client.get(
                alm(seed.DEV_MODEL_ID, "revisions"), params={"limit": 1, "offset": 1}, headers=admin
            )
        ).json()

    paging = page["meta"]["paging"]
    assert ("next" in paging and "previous" in paging) is links


async def test_answers_carry_a_date_header_in_sandbox_time() -> None:
    async with tenant() as (client, admin, _):
        response = await client.get("/2/0/models", headers=admin)

    assert response.headers["date"] == "Thu, 28 May 2026 20:26:40 GMT"


async def test_the_default_rate_limit_is_ten_per_second_with_a_small_burst() -> None:
    sandbox = Sandbox(clock=lambda: FROZEN_NOW)

    assert (sandbox.rate_limiter.rate, sandbox.rate_limiter.burst) == (10.0, 20)
