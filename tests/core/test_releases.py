"""Releases: one revision into several targets, wave by wave, one approval, per-target results."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.sandbox import seed
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import ADA, GRACE, World, open_world

pytestmark = pytest.mark.anyio

APAC = copy_id(1)  # a second production model, FP&A PROD 1
WAVES = (("test",), ("prod", APAC))


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url=database_url, slack=False, task_duration=30.0) as stack:
        add_prod_copies(stack.sandbox, 1)
        yield stack


def sync_post_models(core: World) -> list[str]:
    """The target model of each sync POST Anaplan received, in order."""
    return [
        e.path.split("/models/", 1)[1].split("/", 1)[0]
        for e in core.sandbox.request_log
        if e.method == "POST" and e.path.endswith("/syncTasks")
    ]


async def test_a_three_target_release_in_two_waves_takes_one_approval_and_syncs_in_wave_order(
    core: World,
) -> None:
    outcome = await core.ops.releases.request_release(ReleaseSpec("dev", WAVES), actor=ADA)
    assert outcome.status == "awaiting_approval"
    assert [t.wave for t in outcome.request.plan.targets] == [0, 1, 1]

    started = await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert started.state == "executing"
    assert sync_post_models(core) == [seed.TEST_MODEL_ID], "wave 2 waits for wave 1"
    await core.pass_time(8)

    done = await core.ops.get_request(outcome.request.id)
    assert done.state == "succeeded"
    posts = sync_post_models(core)
    assert len(posts) == 3
    assert posts[0] == seed.TEST_MODEL_ID
    assert set(posts[1:]) == {seed.PROD_MODEL_ID, APAC}
    runs = await core.ops.get_runs(done.id)
    assert [(r.wave, r.state) for r in runs] == [(0, "succeeded"), (1, "succeeded"), (1, "succeeded")]
    assert len({r.anaplan_task_id for r in runs}) == 3
    # One DM at the end, with the summary; one approval card.
    assert core.notifier.kinds(f"user:{ADA.id}").count("task_finished") == 1
    assert core.notifier.kinds("approvals") == ["approval_needed"]
    assert done.result is not None
    assert done.result.message == "Synced: FP&A TEST, FP&A PROD, FP&A PROD 1."


async def test_a_failure_in_wave_one_stops_wave_two_and_says_which_targets_changed(core: World) -> None:
    outcome = await core.ops.releases.request_release(ReleaseSpec("dev", WAVES), actor=ADA)
    core.sandbox.fail_next_sync(seed.TEST_MODEL_ID)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time(6)

    done = await core.ops.get_request(outcome.request.id)
    assert done.state == "failed"
    assert sync_post_models(core) == [seed.TEST_MODEL_ID]
    runs = await core.ops.get_runs(done.id)
    assert [r.state for r in runs] == ["failed", "skipped", "skipped"]
    assert done.result is not None
    assert done.result.message == (
        "Synced: none. Failed: FP&A TEST. Not started (stopped after a failure): FP&A PROD, FP&A PROD 1."
    )
    actions = [e.action for e in await core.services.store.list_audit(request_id=done.id)]
    assert actions.count("target_skipped") == 2


async def test_on_failure_continue_runs_the_later_waves_anyway(core: World) -> None:
    spec = ReleaseSpec("dev", WAVES, on_failure="continue")
    outcome = await core.ops.releases.request_release(spec, actor=ADA)
    core.sandbox.fail_next_sync(seed.TEST_MODEL_ID)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time(8)

    done = await core.ops.get_request(outcome.request.id)
    assert done.state == "failed"
    assert len(sync_post_models(core)) == 3
    assert [r.state for r in await core.ops.get_runs(done.id)] == ["failed", "succeeded", "succeeded"]


async def test_a_stale_target_fails_alone_at_its_turn_and_stops_the_rest(core: World) -> None:
    outcome = await core.ops.releases.request_release(ReleaseSpec("dev", (("prod",), (APAC,))), actor=ADA)
    # prod moves on before the release is approved: a plain sync into it, approved first.
    other = await core.ops.requests.request_sync("dev", "prod", revision=seed.R3_NAME, actor=ADA)
    await core.ops.requests.decide(other.request.id, actor=GRACE, approve=True)
    await core.pass_time()
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time()

    done = await core.ops.get_request(outcome.request.id)
    runs = await core.ops.get_runs(done.id)
    assert [r.state for r in runs] == ["failed", "skipped"]
    assert runs[0].result is not None
    assert runs[0].result.cause == "stale_plan"
    assert done.state == "failed"
    assert len(sync_post_models(core)) == 1, "only the other request's sync"


async def test_preflight_blocks_a_target_that_cannot_take_the_revision_until_it_is_dropped(
    core: World,
) -> None:
    # The Workforce Planning model shares no history with dev.
    spec = ReleaseSpec("dev", (("test", seed.UNRELATED_MODEL_ID),))
    outcome = await core.ops.releases.request_release(spec, actor=ADA)
    assert outcome.status == "blocked"
    assert outcome.request.state == "requested"
    runs = await core.ops.get_runs(outcome.request.id)
    assert runs[0].blocked_reason is None
    assert "Workforce Planning" in str(runs[1].blocked_reason)
    await core.pass_time()
    assert core.sync_posts() == 0, "nobody is asked and nothing runs while a target is blocked"

    going = await core.ops.releases.drop_targets(outcome.request.id, [seed.UNRELATED_MODEL_ID], actor=ADA)
    assert going.status == "awaiting_approval", "now the approvers are asked"
    assert core.sync_posts() == 0
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time()
    assert [r.state for r in await core.ops.get_runs(outcome.request.id)] == ["succeeded", "dropped"]
    assert sync_post_models(core) == [seed.TEST_MODEL_ID]


async def test_a_blocked_release_can_be_cancelled_by_its_requester(core: World) -> None:
    spec = ReleaseSpec("dev", (("prod", seed.UNRELATED_MODEL_ID),))
    outcome = await core.ops.releases.request_release(spec, actor=ADA)
    cancelled = await core.ops.requests.cancel(outcome.request.id, actor=ADA)
    assert cancelled.state == "cancelled"
    await core.pass_time()
    assert core.sync_posts() == 0
