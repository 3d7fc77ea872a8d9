"""Contract: our own Anaplan client (`alm_bot.anaplan`) against the sandbox, in-process and over HTTP.

The client's ``sleep`` advances sandbox time, so polling and backoff cost no real time; over
loopback the sandbox runs under uvicorn on an ephemeral port in this same process.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import anyio
import anyio.lowlevel
import httpx2
import pytest
from sandbox_calls import FROZEN_NOW
from served import serving

from alm_bot.anaplan import AnaplanClient, BasicAuth, PollPolicy, RetryPolicy
from alm_bot.errors import (
    InvalidRequest,
    ModelArchived,
    NotFound,
    PermissionDenied,
    TaskCreationUncertain,
    TaskFailed,
)
from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

pytestmark = pytest.mark.anyio


def advancing_sleep(sandbox: Sandbox) -> Callable[[float], Awaitable[None]]:
    async def sleep(seconds: float) -> None:
        sandbox.advance(seconds)
        await anyio.lowlevel.checkpoint()

    return sleep


def our_client(
    sandbox: Sandbox,
    base: str,
    *,
    user: str = seed.ADMIN_USER,
    transport: httpx2.AsyncBaseTransport | None = None,
    timeout: float = 30.0,
) -> AnaplanClient:
    return AnaplanClient(
        auth=BasicAuth(user, seed.PASSWORD),
        api_url=f"{base}/2/0",
        auth_url=base,
        timeout=timeout,
        retry=RetryPolicy(jitter=0.0),
        poll=PollPolicy(initial_interval=1.0),
        transport=transport,
        sleep=advancing_sleep(sandbox),
        clock=sandbox.now,
    )


@pytest.fixture
async def anaplan(sandbox: Sandbox) -> AsyncIterator[AnaplanClient]:
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with our_client(sandbox, "http://sandbox", transport=transport) as client:
        yield client


def paths(sandbox: Sandbox) -> list[str]:
    return [f"{e.method} {e.path} {e.status}" for e in sandbox.request_log]


# --- in process -------------------------------------------------------------------------------------------


async def test_our_client_discovers_the_seed_workspaces_and_models(anaplan: AnaplanClient) -> None:
    workspaces = await anaplan.list_workspaces()
    models = await anaplan.list_models()
    dev = await anaplan.get_model(seed.DEV_MODEL_ID)

    assert {w.name for w in workspaces} == {"FP&A", "Sales Ops"}
    assert len(models) == 6
    assert (dev.name, dev.active_state, dev.mode, dev.is_online) == ("FP&A DEV", "UNLOCKED", "standard", True)


async def test_our_client_plans_and_syncs_dev_into_prod(anaplan: AnaplanClient) -> None:
    prod = anaplan.alm(seed.PROD_MODEL_ID)
    syncable = await prod.get_syncable_revisions(seed.DEV_MODEL_ID)
    latest = await prod.get_latest_revision()
    assert latest is not None

    summary = await prod.create_comparison_summary(syncable[0].id, seed.DEV_MODEL_ID, latest.id)
    done = await prod.sync_models(syncable[0].id, seed.DEV_MODEL_ID, latest.id)

    assert [r.id for r in syncable] == [seed.R4_ID, seed.R3_ID]
    assert summary.totals.total == sum(c.total for c in summary.differences.values())
    assert summary.differences["listSubsets"].created == 1
    assert done.result.successful
    new_latest = await prod.get_latest_revision()
    assert new_latest is not None
    assert new_latest.id == seed.R4_ID
    assert len(await prod.get_sync_tasks()) == 1
    applied = await anaplan.alm(seed.DEV_MODEL_ID).get_models_for_revision(seed.R4_ID)
    assert [m.model_id for m in applied] == [seed.DEV_MODEL_ID, seed.PROD_MODEL_ID]


async def test_our_client_downloads_a_comparison_report(anaplan: AnaplanClient) -> None:
    test = anaplan.alm(seed.TEST_MODEL_ID)

    task = await test.create_comparison_report(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID)
    report = await test.get_comparison_report(task)

    assert report.startswith(b"Source Workspace\t")
    assert b"=== LINE ITEMS ADDED ===" in report


async def test_our_client_tags_a_revision_and_switches_a_model_offline(anaplan: AnaplanClient) -> None:
    dev = anaplan.alm(seed.DEV_MODEL_ID)

    revision = await dev.create_revision("R5", "made by alm-bot")
    await dev.change_model_status("offline")

    assert revision.creation_method == "User added revision via API"
    assert (await anaplan.get_model(seed.DEV_MODEL_ID)).active_state == "MAINTENANCE"
    with pytest.raises(InvalidRequest) as refused:
        await dev.create_revision("R6", "")
    assert "no structural changes" in refused.value.anaplan_message


async def test_our_client_reports_an_incompatible_sync_as_a_failed_task(anaplan: AnaplanClient) -> None:
    with pytest.raises(TaskFailed) as failed:
        await anaplan.alm(seed.TEST_MODEL_ID).sync_models(seed.U2_ID, seed.UNRELATED_MODEL_ID, seed.R3_ID)

    assert failed.value.title == "The target and source revisions are incompatible"


async def test_our_client_reports_an_oversized_sync_with_its_subtitle(
    anaplan: AnaplanClient, sandbox: Sandbox
) -> None:
    sandbox.fail_next_sync(seed.TEST_MODEL_ID)

    with pytest.raises(TaskFailed) as failed:
        await anaplan.alm(seed.TEST_MODEL_ID).sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID)

    assert failed.value.title == "Model Synchronization Failed"
    assert "workspace size allowance" in failed.value.detail


async def test_our_client_maps_refusals_onto_the_error_tree(sandbox: Sandbox) -> None:
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with our_client(sandbox, "http://sandbox", user=seed.VIEWER_USER, transport=transport) as viewer:
        with pytest.raises(PermissionDenied) as forbidden:
            await viewer.alm(seed.TEST_MODEL_ID).get_latest_revision()
        with pytest.raises(PermissionDenied) as failed_dependency:
            await viewer.alm(seed.TEST_MODEL_ID).create_comparison_report(
                seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID
            )
    async with our_client(sandbox, "http://sandbox", transport=transport) as admin:
        with pytest.raises(ModelArchived):
            await admin.alm(seed.ARCHIVED_MODEL_ID).get_latest_revision()
        with pytest.raises(NotFound):
            await admin.alm("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF").get_latest_revision()

    assert (forbidden.value.status, failed_dependency.value.status) == (403, 424)


async def test_our_client_retries_transient_errors_and_honours_retry_after(
    anaplan: AnaplanClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("GET", "/alm/latestRevision$", status=503, times=2)
    sandbox.add_fault("GET", "/alm/revisions$", status=429, retry_after=4)
    began = sandbox.now()

    latest = await anaplan.alm(seed.PROD_MODEL_ID).get_latest_revision()
    revisions = await anaplan.alm(seed.PROD_MODEL_ID).get_revisions()

    assert latest is not None
    assert latest.id == seed.R2_ID
    assert len(revisions) == 2
    latest_calls = [p for p in paths(sandbox) if p.startswith("GET /2/0/models") and "latestRevision" in p]
    assert [p.rsplit(" ", 1)[1] for p in latest_calls] == ["503", "503", "200"]
    assert sandbox.now() - began >= 4, "waited at least the Retry-After"


async def test_our_client_does_not_start_a_sync_twice_when_the_post_failed_before_any_work(
    anaplan: AnaplanClient, sandbox: Sandbox
) -> None:
    sandbox.add_fault("POST", "/alm/syncTasks$", status=503)

    done = await anaplan.alm(seed.PROD_MODEL_ID).sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R2_ID)

    assert done.result.successful
    assert len(await anaplan.alm(seed.PROD_MODEL_ID).get_sync_tasks()) == 1


async def test_our_client_refreshes_its_token_before_it_expires(
    anaplan: AnaplanClient, sandbox: Sandbox
) -> None:
    await anaplan.list_models()
    sandbox.advance(33 * 60)

    await anaplan.list_models()
    sandbox.advance(33 * 60)
    await anaplan.list_models()

    assert [p for p in paths(sandbox) if "/token/" in p] == [
        "POST /token/authenticate 201",
        "POST /token/refresh 200",
        "POST /token/refresh 200",
    ]
    assert all(not p.endswith(" 401") for p in paths(sandbox))


async def test_our_client_logs_in_again_after_a_401(anaplan: AnaplanClient, sandbox: Sandbox) -> None:
    await anaplan.list_models()
    sandbox.add_fault("GET", "^/2/0/models$", status=401)

    models = await anaplan.list_models()

    assert len(models) == 6
    assert paths(sandbox)[-3:] == [
        "GET /2/0/models 401",
        "POST /token/authenticate 201",
        "GET /2/0/models 200",
    ]


# --- over loopback HTTP -----------------------------------------------------------------------------


@pytest.mark.slow
async def test_our_client_syncs_over_real_http() -> None:
    sandbox = Sandbox(task_duration=3.0, rate_limit_per_second=None, clock=lambda: FROZEN_NOW)
    async with serving(sandbox) as base, our_client(sandbox, base) as client:
        models = await client.list_models()
        done = await client.alm(seed.TEST_MODEL_ID).sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID)
        task_url = f"{base}/2/0/models/{seed.TEST_MODEL_ID}/alm/syncTasks/{done.task_id}"

    assert len(models) == 6
    assert done.result.successful
    assert f"POST /2/0/models/{seed.TEST_MODEL_ID}/alm/syncTasks 201" in paths(sandbox)
    assert task_url.startswith("http://127.0.0.1:")


@pytest.mark.slow
async def test_our_client_adopts_a_sync_whose_answer_came_too_late_once_its_result_proves_it() -> None:
    sandbox = Sandbox(
        task_duration=0.0,
        rate_limit_per_second=None,
        clock=lambda: FROZEN_NOW,
        fidelity=Fidelity(result_shapes="rich"),
    )
    sandbox.add_fault("POST", "/alm/syncTasks$", delay=1.0)  # the sync starts; its answer is held back
    async with serving(sandbox) as base, our_client(sandbox, base, timeout=0.3) as client:
        test = client.alm(seed.TEST_MODEL_ID)
        with anyio.fail_after(10):
            created = await test.sync_models(
                seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
            )
            tasks = await test.get_sync_tasks()

    assert [t.task_id for t in tasks] == [created.task_id], "one sync, adopted — not started twice"


@pytest.mark.slow
async def test_our_client_names_a_still_running_sync_whose_answer_came_too_late_instead_of_adopting_it() -> (
    None
):
    """A running task does not say which revisions it applies: it might be somebody else's sync."""
    sandbox = Sandbox(task_duration=3.0, rate_limit_per_second=None, clock=lambda: FROZEN_NOW)
    sandbox.add_fault("POST", "/alm/syncTasks$", delay=1.0)
    async with serving(sandbox) as base, our_client(sandbox, base, timeout=0.3) as client:
        test = client.alm(seed.TEST_MODEL_ID)
        with anyio.fail_after(10), pytest.raises(TaskCreationUncertain) as uncertain:
            await test.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False)
        tasks = await test.get_sync_tasks()

    assert uncertain.value.candidates == tuple(t.task_id for t in tasks), (
        "one sync, named — not started twice"
    )
    assert len(tasks) == 1
