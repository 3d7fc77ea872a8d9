"""A release counts for every one of its targets in ``stats`` (one delivery per target run, under the
target's own model), and its release notes name each target's Anaplan task and verification; on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.sandbox import seed
from alm_bot.stats_history import delivery_report
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import ADA, GRACE, World, open_world

pytestmark = pytest.mark.anyio

APAC = copy_id(1)
WAVES = (("test",), ("prod", APAC))


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url=database_url, slack=False, task_duration=30.0) as stack:
        add_prod_copies(stack.sandbox, 1)
        yield stack


async def test_stats_count_each_target_of_a_release_under_its_own_model(core: World) -> None:
    outcome = await core.ops.releases.request_release(ReleaseSpec("dev", WAVES), actor=ADA)
    core.sandbox.fail_next_sync(APAC)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time(8)
    assert (await core.ops.get_request(outcome.request.id)).state in ("failed", "succeeded")

    store, now = core.services.store, core.clock()
    report = await delivery_report(store, period=timedelta(days=1), now=now + timedelta(minutes=1))
    figures = {m.model_id: (m.model_name, m.succeeded, m.failed) for m in report.models}
    assert figures == {
        seed.TEST_MODEL_ID: ("FP&A TEST", 1, 0),
        seed.PROD_MODEL_ID: ("FP&A PROD", 1, 0),
        APAC: ("FP&A PROD 1", 0, 1),
    }
    only = await delivery_report(
        store, period=timedelta(days=1), now=now + timedelta(minutes=1), model_id=APAC
    )
    assert [(m.model_id, m.failed) for m in only.models] == [(APAC, 1)]


async def test_release_notes_name_every_targets_task_and_verification(core: World) -> None:
    outcome = await core.ops.releases.request_release(ReleaseSpec("dev", WAVES), actor=ADA)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time(8)
    assert (await core.ops.get_request(outcome.request.id)).state == "succeeded"
    runs = await core.ops.get_runs(outcome.request.id)

    notes = await core.ops.release_notes(outcome.request.id)
    for name in ("FP&A TEST", "FP&A PROD", "FP&A PROD 1"):
        assert f"## Verification of {name}\n\nVerified: {name} is at " in notes, notes
    for run in runs:
        assert f"- Sync task {run.anaplan_task_id}" in notes
