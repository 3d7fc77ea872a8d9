"""Polling a task densely only around the end its target's past tasks let expect, sparsely before."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import timedelta

import pytest
from store_builders import finish

from alm_bot.backoff import Backoff
from alm_bot.pacing import FinishedTask, Pacing, TaskHistory, Window, expected_window, observed_duration
from alm_bot.records import TaskOutcome
from alm_bot.sandbox import seed
from tests.world import ADA, GRACE, World

pytestmark = [pytest.mark.anyio, pytest.mark.world(task_duration=30.0)]

PACING = Pacing(Backoff(1.0, 1.5, 15.0), near_end=2.0)
WINDOW = Window(expected=45.0, sigma=0.1)  # ends expected 38.7–52.3 s after the start


# --- the window ---------------------------------------------------------------------------------


def test_without_history_nothing_is_expected() -> None:
    assert expected_window([]) is None
    assert expected_window([0.0]) is None


def test_the_window_surrounds_the_median_duration_and_widens_with_their_spread() -> None:
    steady = expected_window([30.0, 31.0, 29.0, 30.5, 29.5])
    erratic = expected_window([10.0, 30.0, 60.0, 20.0, 45.0])
    assert steady is not None
    assert erratic is not None
    assert steady.early < 30.0 < steady.late
    assert steady.late - steady.early < 10.0
    assert erratic.late - erratic.early > 3 * (steady.late - steady.early)


def test_one_duration_gives_a_wide_window_identical_ones_a_narrow_but_real_one() -> None:
    one = expected_window([20.0])
    same = expected_window([20.0, 20.0, 20.0])
    assert one is not None
    assert same is not None
    assert one.expected == pytest.approx(20.0)
    assert one.early == pytest.approx(20.0 * math.exp(-1.5 * 0.25))
    assert 18.0 < same.early < 20.0 < same.late < 22.0


def test_a_duration_is_the_end_seen_less_half_the_interval_before_it() -> None:
    assert observed_duration(32.0, 2.0) == 31.0
    assert observed_duration(0.5, 4.0) == 0.0


# --- the schedule -------------------------------------------------------------------------------


def test_with_nothing_learnt_the_interval_backs_off_from_the_shortest_to_the_longest() -> None:
    delays, previous = [], 1.0
    for _ in range(10):
        previous = PACING.next_delay(0.0, previous, None)
        delays.append(previous)
    assert delays[0] == 1.5
    assert delays == sorted(delays)
    assert delays[-1] == 15.0
    assert PACING.wait_before_first_poll(0.0, None) == 0.0


def test_before_the_window_polls_are_sparse_but_never_further_apart_than_the_longest() -> None:
    assert PACING.wait_before_first_poll(0.0, WINDOW) == 15.0
    assert PACING.next_delay(15.0, 15.0, WINDOW) == 15.0
    assert PACING.next_delay(30.0, 15.0, WINDOW) == pytest.approx(WINDOW.early - 30.0)  # to the window
    assert PACING.wait_before_first_poll(WINDOW.early - 0.5, WINDOW) == 0.0


def test_inside_the_window_polls_are_densest_at_the_expected_end_and_past_it_they_back_off() -> None:
    at_the_end = PACING.next_delay(45.0, 8.0, WINDOW)
    at_the_edge = PACING.next_delay(WINDOW.early + 0.1, 8.0, WINDOW)
    assert at_the_end == 2.0
    assert 2.0 < at_the_edge < 3.6  # + half the near-end interval per standard deviation
    assert PACING.next_delay(WINDOW.late + 1, 2.0, WINDOW) == 3.0
    assert PACING.next_delay(80.0, 12.0, WINDOW) == 15.0


def test_an_unlearning_pacing_is_a_fixed_interval() -> None:
    fixed = Pacing(Backoff(5.0, 1.0, 5.0), near_end=5.0, learn=False)
    assert [fixed.next_delay(t, 5.0, WINDOW) for t in (0.0, 40.0, 45.0, 90.0)] == [5.0] * 4
    assert fixed.wait_before_first_poll(0.0, WINDOW) == 0.0


# --- the history --------------------------------------------------------------------------------


async def test_the_history_is_loaded_once_per_target_and_kept_up_to_date() -> None:
    loads: list[tuple[str, str]] = []

    async def load(kind: str, model_id: str, limit: int) -> Sequence[FinishedTask]:
        loads.append((kind, model_id))
        return []

    history = TaskHistory(load)
    assert await history.window("sync", "M1") is None
    history.record("sync", "M1", 30.0)
    history.record("sync", "M2", 99.0)  # never asked for: not kept
    window = await history.window("sync", "M1")
    assert window is not None
    assert window.early < 30.0 < window.late
    assert loads == [("sync", "M1")]


# --- end to end: the watcher learns from the store ------------------------------------------------


async def _a_past_sync_into_prod(core: World, seconds: float) -> None:
    """A sync into FP&A PROD that took ``seconds``, as the store remembers it."""
    store = core.services.store
    async with store.transaction() as tx:
        past = await tx.track_task("sync", seed.PROD_MODEL_ID, "PAST0000000000000000000000000000")
    core.clock.advance(seconds)
    claimed = await store.claim_due_tasks("past", core.clock(), timedelta(minutes=1), 10)
    assert [t.id for t in claimed] == [past.id]
    await store.reschedule_task(past.id, "past", core.clock(), 0.0, "IN_PROGRESS")
    await store.claim_due_tasks("past", core.clock(), timedelta(minutes=1), 10)
    assert await finish(store, past.id, "past", TaskOutcome(successful=True))


def _polls_of(core: World, task_id: str) -> list[float]:
    return [e.time for e in core.sandbox.request_log if e.method == "GET" and e.path.endswith(task_id)]


async def test_a_sync_into_a_target_with_history_is_polled_near_its_expected_end(core: World) -> None:
    await _a_past_sync_into_prod(core, 30.0)
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    approved = await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    task_id = approved.anaplan_task_id
    assert task_id is not None
    started = core.sandbox.now()
    request = approved
    while request.state == "executing" and core.sandbox.now() - started < 60:
        await core.watcher.tick()
        core.sandbox.advance(0.5)
        core.clock.advance(0.5)
        request = await core.ops.get_request(approved.id)
    polls = [at - started for at in _polls_of(core, task_id)]
    ended = core.sandbox.world.tasks[task_id].finishes_at - started
    assert request.state == "succeeded"
    assert polls[0] >= 14.5, "nothing to ask Anaplan before the window opens (or the longest interval)"
    assert polls[-1] - ended <= 2.5, "seen within one near-end interval (and one tick) of its end"
    assert len(polls) <= 8, polls
