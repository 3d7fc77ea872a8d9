"""The watcher: restart-safe task following, retried delivery, budgeted polling, clean stop."""

from __future__ import annotations

import dataclasses

import anyio
import anyio.lowlevel
import pytest

from alm_bot.ratelimit import RequestBudget
from tests.live import eventually
from tests.world import ADA, GRACE, World

pytestmark = [pytest.mark.anyio, pytest.mark.world(task_duration=30.0)]


async def _approved_sync(core: World) -> str:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    return str(outcome.request.id)


async def test_progress_is_reported_while_the_sync_runs(core: World) -> None:
    await _approved_sync(core)
    core.sandbox.advance(10)
    core.clock.advance(10)
    await core.watcher.tick()
    assert "task_progress" in core.notifier.kinds("card")


async def test_a_watcher_restarted_mid_task_reports_the_result_once(core: World) -> None:
    request_id = await _approved_sync(core)
    first = core.new_watcher()
    core.sandbox.advance(5)
    core.clock.advance(5)
    await first.tick()  # claims and polls the running task, then "dies" without releasing its lease

    second = core.new_watcher()
    for _ in range(4):
        core.sandbox.advance(60)
        core.clock.advance(90)  # past the dead watcher's lease
        await second.tick()
    await first.tick()  # the old process comes back: there is nothing left for it to do

    assert (await core.ops.get_request(request_id)).state == "succeeded"
    assert core.notifier.kinds("card").count("task_finished") == 1


async def test_a_notice_that_fails_three_times_is_delivered_once_later(core: World) -> None:
    await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    core.notifier.fail_times = 3
    for _ in range(6):
        await core.watcher.tick()
        core.clock.advance(10)
    assert core.notifier.kinds("approvals") == ["approval_needed"]
    assert core.notifier.attempts >= 4
    rows = await core.services.store.list_outbox(sent=True)
    assert any(r.kind == "approval_needed" and r.attempts == 4 for r in rows)


async def test_two_watchers_deliver_every_notice_exactly_once(core: World) -> None:
    for _ in range(5):
        await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    one, two = core.new_watcher(), core.new_watcher()
    async with anyio.create_task_group() as tg:
        tg.start_soon(one.tick)
        tg.start_soon(two.tick)
    ids = [n.id for n in core.notifier.delivered if n.kind == "approval_needed"]
    assert len(ids) == 5
    assert len(set(ids)) == 5


class FakeTime:
    """A clock that only the budget's sleeps (and the test) move."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.lowlevel.checkpoint()  # other tasks run, as during a real sleep


async def test_polling_never_spends_more_than_the_request_budget_in_any_second() -> None:
    time = FakeTime()
    budget = RequestBudget(5, clock=time.clock, sleep=time.sleep)
    sent: list[float] = []
    for _ in range(25):
        async with budget.slot():
            sent.append(time.now)
    # 5 at once, then 5 per (slightly more than a) second — never 6 within one second.
    assert max(sum(1 for t in sent if start <= t < start + 1) for start in sent) == 5
    assert time.now == pytest.approx(4 * budget.window)


async def test_a_request_counts_until_its_answer_came_back_so_late_arrivals_cannot_crowd_a_second() -> None:
    # Anaplan may receive a request a little after it was allowed; counting it until its answer
    # makes the limit hold wherever in that span Anaplan saw it.
    time = FakeTime()
    budget = RequestBudget(2, margin=0, clock=time.clock, sleep=time.sleep)
    async with budget.slot():
        time.now += 0.8  # a slow answer
    async with budget.slot():
        pass
    started = time.now
    async with budget.slot():
        pass
    assert started == pytest.approx(0.8)
    assert time.now == pytest.approx(1.8)  # a window after the slow answer, not after its start


async def test_when_every_slot_is_in_flight_the_next_request_waits_for_one_to_end() -> None:
    time = FakeTime()
    budget = RequestBudget(1, margin=0, clock=time.clock, sleep=time.sleep)
    started: list[float] = []

    async def request(seconds: float) -> None:
        async with budget.slot():
            started.append(time.now)
            await anyio.lowlevel.checkpoint()  # the other request asks meanwhile
            time.now += seconds

    async with anyio.create_task_group() as tg:
        tg.start_soon(request, 3.0)
        tg.start_soon(request, 0.0)
    assert started[1] >= started[0] + 3.0 + 1.0


async def test_after_a_429_the_budget_waits_then_resumes_at_a_steady_pace() -> None:
    time = FakeTime()
    budget = RequestBudget(5, clock=time.clock, sleep=time.sleep)
    budget.pause_for(10)
    sent: list[float] = []
    for _ in range(3):
        async with budget.slot():
            sent.append(time.now)
    assert sent[0] == pytest.approx(10)
    assert sent[1] - sent[0] == pytest.approx(budget.window / 5)
    assert sent[2] - sent[1] == pytest.approx(budget.window / 5)


@pytest.mark.parametrize(("rate", "limit", "window"), [(10, 10, 1.0), (7.5, 7, 1.0), (0.5, 1, 2.0)])
def test_a_fractional_budget_rounds_down_and_a_slow_one_widens_the_window(
    rate: float, limit: int, window: float
) -> None:
    budget = RequestBudget(rate, margin=0)
    assert (budget.limit, budget.window) == (limit, pytest.approx(window))


async def test_run_stops_cleanly_when_cancelled_and_releases_its_leases(core: World) -> None:
    await _approved_sync(core)
    watcher = core.new_watcher()
    async with anyio.create_task_group() as tg:
        tg.start_soon(watcher.run)
        # Cancelled after its first pass, however long that takes (it missed a 0.5 s bound under load).
        await eventually(lambda: watcher.heartbeat is not None, "the watcher's first pass")
        tg.cancel_scope.cancel()
    assert watcher.heartbeat is not None
    tasks = await core.services.store.list_tasks(state="active")
    assert all(t.lease_owner != watcher.owner for t in tasks)


async def _orphaned_execution(core: World) -> str:
    """A request moved to executing by a process that died before it recorded Anaplan's task."""
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    async with core.services.store.transaction() as tx:
        await tx.transition(outcome.request.id, {"pending"}, "approved", decided_by_id=GRACE.id)
        await tx.transition(outcome.request.id, {"approved"}, "executing")
    return str(outcome.request.id)


async def test_an_execution_interrupted_before_the_sync_post_is_failed_never_retried(core: World) -> None:
    request_id = await _orphaned_execution(core)
    core.clock.advance(6 * 60)
    await core.new_watcher().tick()
    request = await core.ops.get_request(request_id)
    assert request.state == "failed"
    assert request.result is not None
    assert request.result.cause == "start_unconfirmed"
    assert request.result.considered_task_ids == ()
    assert "cannot prove whether it started" in str(request.result.message)
    assert core.sync_posts() == 0


async def test_an_execution_interrupted_after_the_sync_post_adopts_the_task(core: World) -> None:
    # The proof is the finished task's revisions, which only the rich result shape shows.
    core.sandbox.fidelity = dataclasses.replace(core.sandbox.fidelity, result_shapes="rich")
    request_id = await _orphaned_execution(core)
    plan = (await core.ops.get_request(request_id)).plan
    await core.services.client.alm(plan.target.model.id).sync_models(
        plan.source_revision.id, plan.source.id, plan.target.revision.id, wait_for_completion=False
    )
    core.clock.advance(6 * 60)
    await core.watcher.tick()
    await core.pass_time()
    request = await core.ops.get_request(request_id)
    assert request.state == "succeeded", request.result
    assert core.sync_posts() == 1


async def test_stop_ends_run_after_the_pass_it_is_in_and_releases_its_leases(core: World) -> None:
    await _approved_sync(core)
    watcher = core.new_watcher(idle_seconds=60)
    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher.run)
            while watcher.heartbeat is None:
                await anyio.lowlevel.checkpoint()
            watcher.stop()
    assert all(t.lease_owner is None for t in await core.services.store.list_tasks())
