"""The client against the strict, sparse sandbox over HTTP: documented minimal shapes parse, 409 is
``ModelBusy`` and never retried, revision lists page lazily and follow ``next`` links, and none of the
client's requests trips the 415/406 checks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime

import httpx2
import pytest

from alm_bot.anaplan import AnaplanClient, BasicAuth, CompletedSyncTask
from alm_bot.errors import InvalidArgument, ModelBusy
from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 5, 28, 20, 26, 40, tzinfo=UTC).timestamp()


@asynccontextmanager
async def strict(fidelity: Fidelity | None = None) -> AsyncIterator[tuple[AnaplanClient, Sandbox]]:
    """The default sandbox (no rate limit, so only the rule under test can refuse)."""
    sandbox = Sandbox(task_duration=3.0, rate_limit_per_second=None, clock=lambda: NOW, fidelity=fidelity)
    client = AnaplanClient(
        auth=BasicAuth(seed.ADMIN_USER, seed.PASSWORD),
        api_url="http://sandbox.test/2/0",
        auth_url="http://sandbox.test",
        transport=httpx2.ASGITransport(create_app(sandbox)),
    )
    async with client:
        yield client, sandbox


def calls(sandbox: Sandbox, fragment: str) -> list[str]:
    return [f"{e.method} {e.path}" for e in sandbox.request_log if fragment in e.path]


async def test_a_second_sync_into_a_syncing_target_is_model_busy_and_not_retried() -> None:
    async with strict() as (client, sandbox):
        prod = client.alm(seed.PROD_MODEL_ID)
        await prod.sync_models(seed.R3_ID, seed.DEV_MODEL_ID, seed.R2_ID, wait_for_completion=False)

        with pytest.raises(ModelBusy) as busy:
            await prod.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R2_ID, wait_for_completion=False)
        with pytest.raises(ModelBusy):
            await prod.change_model_status("offline")

    assert busy.value.model_id == seed.PROD_MODEL_ID
    assert busy.value.anaplan_message.startswith("Model 'FP&A PROD' is busy")
    assert calls(sandbox, "syncTasks").count(f"POST /2/0/models/{seed.PROD_MODEL_ID}/alm/syncTasks") == 2
    assert [e.status for e in sandbox.request_log if "onlineStatus" in e.path] == [409]


async def test_the_documented_minimal_shapes_parse() -> None:
    sparse = Fidelity(current_step="never", result_shapes="minimal")
    async with strict(sparse) as (client, sandbox):
        dev, prod = client.alm(seed.DEV_MODEL_ID), client.alm(seed.PROD_MODEL_ID)
        history = await dev.get_revisions()
        applied = await dev.get_models_for_revision(seed.R1_ID)
        pending = await prod.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R2_ID, wait_for_completion=False)
        sandbox.advance(3)
        done = await prod.get_sync_task(pending.task_id)

    assert [r.id for r in history] == [seed.R1_ID, seed.R2_ID, seed.R3_ID, seed.R4_ID]
    assert all(r.applied_on is None and r.applied_by is None for r in history)
    deleted = [m for m in applied if m.model_deleted]
    assert [m.model_id for m in deleted] == [None]
    assert isinstance(done, CompletedSyncTask)
    assert done.result.successful is True
    assert (done.result.source_revision_id, done.current_step, done.progress) == (None, None, None)


async def test_revisions_are_read_lazily_page_by_page_following_the_next_links() -> None:
    async with strict() as (client, sandbox):
        dev = client.alm(seed.DEV_MODEL_ID)
        first_two = await dev.get_revisions(limit=2)
        sandbox.request_log.clear()
        seen = []
        async for revision in dev.iter_revisions(descending=True, sort_by="created_on"):
            seen.append(revision.id)
            if len(seen) == 1:
                break
        after_one = list(sandbox.request_log)
        everything = await dev.get_revisions(limit=3)

    assert [r.id for r in first_two] == [seed.R1_ID, seed.R2_ID]
    assert seen == [seed.R4_ID]
    assert len([e for e in after_one if e.path.endswith("/alm/revisions")]) == 1, "one page, not the history"
    assert [r.id for r in everything] == [seed.R1_ID, seed.R2_ID, seed.R3_ID]


async def test_a_server_with_a_small_page_cap_is_walked_to_the_end_through_its_next_links() -> None:
    async with strict(Fidelity(max_page_size=1)) as (client, sandbox):
        history = await client.alm(seed.DEV_MODEL_ID).get_revisions()

    pages = [e for e in sandbox.request_log if e.path.endswith("/alm/revisions")]
    assert [r.id for r in history] == [seed.R1_ID, seed.R2_ID, seed.R3_ID, seed.R4_ID]
    assert len(pages) == 4


async def test_revisions_can_be_narrowed_to_the_days_they_were_applied_on() -> None:
    async with strict() as (client, _):
        dev = client.alm(seed.DEV_MODEL_ID)
        everything = await dev.get_revisions(sort_by="applied_on", descending=False)
        middle = await dev.get_revisions(applied_after=date(2025, 1, 7), applied_before=date(2099, 1, 1))

        with pytest.raises(InvalidArgument, match="earlier day"):
            await dev.get_revisions(applied_after=date(2026, 1, 2), applied_before=date(2026, 1, 1))
        with pytest.raises(InvalidArgument, match="positive"):
            await dev.get_revisions(limit=0)

    assert len(everything) == 4
    assert seed.R1_ID not in [r.id for r in middle]
    assert 0 < len(middle) < 4


async def test_none_of_the_15_calls_is_refused_for_its_content_type_or_accept_header() -> None:
    async with strict(Fidelity(result_shapes="rich")) as (client, sandbox):
        dev, test = client.alm(seed.DEV_MODEL_ID), client.alm(seed.TEST_MODEL_ID)
        await dev.change_model_status("offline")
        await dev.change_model_status("online")
        await dev.get_revisions()
        await test.get_latest_revision()
        await test.get_syncable_revisions(seed.DEV_MODEL_ID)
        await dev.create_revision("R5", "made by the client")
        await dev.get_models_for_revision(seed.R1_ID)
        sandbox_task = await test.sync_models(
            seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
        )
        await test.get_sync_tasks()
        await test.get_sync_task(sandbox_task.task_id)
        sandbox.advance(3)
        report = await test.create_comparison_report(
            seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
        )
        sandbox.advance(3)
        report_done = await test.get_comparison_report_task(report.task_id)
        await test.get_comparison_report(report_done)
        summary = await test.create_comparison_summary(
            seed.R4_ID, seed.DEV_MODEL_ID, seed.R3_ID, wait_for_completion=False
        )
        sandbox.advance(3)
        await test.get_comparison_summary(await test.get_comparison_summary_task(summary.task_id))

    refused = [e for e in sandbox.request_log if e.status in (406, 415)]
    assert refused == []
    assert len({(e.method, e.path.rsplit("/", 1)[0]) for e in sandbox.request_log}) >= 12
