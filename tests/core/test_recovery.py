"""No state without a way out: leases, intents, proven task ownership, a stale-plan check that settles."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import pytest
import sqlalchemy as sa

from alm_bot.operations.ownership import CHECK_DEADLINE, LEASE
from alm_bot.records import StartIntent, SyncPlan
from alm_bot.sandbox import seed
from alm_bot.store import ApprovalRequest
from tests.world import ADA, GRACE, LINUS, World, open_world

pytestmark = pytest.mark.anyio

DEAD = "dead-host:1:abcdef"
LATEST = r"/models/[^/]+/alm/latestRevision$"


@pytest.fixture
async def core(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url=database_url, slack=False, task_duration=30.0) as stack:
        # Proof of ownership is a finished task's revisions, which only the rich result shape shows
        # (which task gets which shape is drawn per task; the plan's own tasks shift the draw).
        stack.sandbox.fidelity = dataclasses.replace(stack.sandbox.fidelity, result_shapes="rich")
        yield stack


def later(core: World, seconds: float) -> None:
    """Time passes for alm-bot and Anaplan alike."""
    core.sandbox.advance(seconds)
    core.clock.advance(seconds)


async def pending(core: World) -> ApprovalRequest:
    return (await core.ops.requests.request_sync("dev", "prod", actor=ADA)).request


async def died_after(core: World, request: ApprovalRequest, *states: str) -> ApprovalRequest:
    """A process took the request through ``states`` (holding its lease) and died there."""
    lease = {
        "lease_owner": DEAD,
        "lease_expires_at": core.clock() + LEASE,
        "deadline_at": core.clock() + CHECK_DEADLINE,
    }
    async with core.services.store.transaction() as tx:
        current: ApprovalRequest | None = request
        previous = request.state
        for state in states:
            extra = {}
            if state == "executing":
                extra = {"start_intent": intent(core, request)}
                # The process records the same intent on the target's run, just before its POST.
                (run,) = await tx.runs.of_request(request.id)
                await tx.runs.move(run.id, {"waiting"}, "starting", **extra)
            current = await tx.transition(
                request.id, {previous}, state, decided_by_id=GRACE.id, **lease, **extra
            )
            previous = state
    assert current is not None
    return current


def intent(core: World, request: ApprovalRequest) -> StartIntent:
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    return StartIntent(
        sent_at=core.clock(),
        target_model_id=plan.target.model.id,
        source_revision_id=plan.source_revision.id,
        target_revision_id=plan.target.revision.id,
    )


async def post_as_the_dead_process(core: World, request: ApprovalRequest) -> str:
    """The dead process's sync POST, which reached Anaplan before it died."""
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    task = await core.services.client.alm(plan.target.model.id).sync_models(
        plan.source_revision.id, plan.source.id, plan.target.revision.id, wait_for_completion=False
    )
    return task.task_id


async def test_every_transition_writes_its_audit_event_executing_included(core: World) -> None:
    request = await pending(core)
    await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    await core.pass_time()
    actions = [e.action for e in reversed(await core.services.store.list_audit(request_id=request.id))]
    assert actions == [
        "requested",
        "pending",
        "approved",
        "executing",
        "sync_started",
        "sync_succeeded",
        "verified",
    ]


async def test_the_intent_is_recorded_before_the_post_with_the_plans_revisions(core: World) -> None:
    request = await pending(core)
    before = core.clock()
    started = await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    assert started.start_intent is not None
    assert before <= started.start_intent.sent_at <= core.clock()
    assert (started.start_intent.source_revision_id, started.start_intent.target_revision_id) == (
        seed.R4_ID,
        seed.R2_ID,
    )
    assert (started.lease_owner, started.anaplan_task_id is not None) == (None, True)


async def test_an_approved_request_whose_executor_died_is_executed_again_once(core: World) -> None:
    request = await died_after(core, await pending(core), "approved")
    await core.new_watcher().tick()
    assert (await core.ops.get_request(request.id)).state == "approved"  # the lease still says alive

    later(core, LEASE.total_seconds() + 1)
    await core.new_watcher().tick()
    await core.pass_time()

    done = await core.ops.get_request(request.id)
    assert done.state == "succeeded"
    assert core.sync_posts() == 1


async def test_a_failing_plan_check_is_retried_later_instead_of_leaving_the_request_syncing(
    core: World,
) -> None:
    request = await pending(core)
    core.sandbox.faults.add("GET", LATEST, 400)  # an error the client does not retry itself
    approved = await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    assert (approved.state, approved.attempts, approved.lease_owner) == ("approved", 1, None)

    later(core, 3)
    await core.watcher.tick()
    await core.pass_time()
    assert (await core.ops.get_request(request.id)).state == "succeeded"
    assert core.sync_posts() == 1


async def test_a_plan_check_that_keeps_failing_fails_the_request_with_the_reason_after_its_deadline(
    core: World,
) -> None:
    request = await pending(core)
    core.sandbox.faults.add("GET", LATEST, 400, times=10_000)
    await core.ops.requests.decide(request.id, actor=GRACE, approve=True)
    for _ in range(20):
        later(core, 60)
        await core.watcher.tick()
    failed = await core.ops.get_request(request.id)
    assert failed.state == "failed"
    assert failed.result is not None
    assert failed.result.cause == "check_failed"
    assert "could not re-check the plan" in str(failed.result.message)
    assert "task_finished" in core.notifier.kinds(f"user:{ADA.id}")
    assert core.sync_posts() == 0


async def test_a_stale_plan_at_approval_fails_the_request_with_the_facts(core: World) -> None:
    stale = await pending(core)
    moving = (await core.ops.requests.request_sync("dev", "prod", actor=LINUS)).request
    await core.ops.requests.decide(moving.id, actor=GRACE, approve=True)
    await core.pass_time()

    failed = await core.ops.requests.decide(stale.id, actor=LINUS, approve=True)
    assert failed.state == "failed"
    assert failed.result is not None
    assert failed.result.cause == "stale_plan"
    assert failed.result.stale is not None
    assert (failed.result.stale.model_id, failed.result.stale.planned, failed.result.stale.current) == (
        seed.PROD_MODEL_ID,
        seed.R2_NAME,
        seed.R4_NAME,
    )


async def test_a_task_that_proves_ownership_is_adopted_once_it_shows_the_plans_revisions(
    core: World,
) -> None:
    request = await died_after(core, await pending(core), "approved", "executing")
    task_id = await post_as_the_dead_process(core, request)
    later(core, LEASE.total_seconds() + 1)
    await core.new_watcher().tick()
    # Anaplan shows no revisions while the task runs: recovery waits for the evidence.
    assert (await core.ops.get_request(request.id)).anaplan_task_id is None

    await core.pass_time()
    done = await core.ops.get_request(request.id)
    assert (done.state, done.anaplan_task_id) == ("succeeded", task_id)
    actions = [e.action for e in await core.services.store.list_audit(request_id=request.id)]
    assert "sync_adopted" in actions
    assert core.sync_posts() == 1


async def test_recovery_never_adopts_another_requests_task(core: World) -> None:
    orphan = await died_after(core, await pending(core), "approved", "executing")
    later(core, 1)
    other = await core.ops.requests.request_sync("dev", "test", actor=ADA)
    running = await core.ops.requests.decide(other.request.id, actor=GRACE, approve=True)
    assert running.anaplan_task_id is not None
    # A task nobody at alm-bot started, into the orphan's target, after its intent:
    foreign = await core.services.client.alm(seed.PROD_MODEL_ID).sync_models(
        seed.R3_ID, seed.DEV_MODEL_ID, seed.R2_ID, wait_for_completion=False
    )

    later(core, LEASE.total_seconds() + 1)
    for _ in range(4):
        later(core, 30)
        await core.new_watcher().tick()

    failed = await core.ops.get_request(orphan.id)
    assert failed.state == "failed"
    assert failed.anaplan_task_id is None
    assert failed.result is not None
    assert failed.result.cause == "start_unconfirmed"
    assert failed.result.considered_task_ids == (foreign.task_id,)
    assert foreign.task_id in str(failed.result.message)
    assert "cannot prove whether it started; check the target's sync tasks" in str(failed.result.message)
    assert (await core.ops.get_request(other.request.id)).anaplan_task_id == running.anaplan_task_id


async def test_no_anaplan_task_can_belong_to_two_requests(core: World) -> None:
    first, second = await pending(core), await pending(core)
    async with core.services.store.transaction() as tx:
        await tx.update_request(first.id, anaplan_task_id="T-SHARED")
    with pytest.raises(sa.exc.IntegrityError):
        async with core.services.store.transaction() as tx:
            await tx.update_request(second.id, anaplan_task_id="T-SHARED")


async def test_an_orphan_of_a_restart_settles_within_a_lease_not_minutes(core: World) -> None:
    request = await died_after(core, await pending(core), "approved", "executing")
    later(core, LEASE.total_seconds() + 16)  # the lease, and the time a late POST could still land
    await core.new_watcher().tick()
    failed = await core.ops.get_request(request.id)
    assert failed.state == "failed"
    assert core.sync_posts() == 0
