"""Waiting for a task: growing poll intervals, the overall deadline and poll limit (TaskTimeout with
the last state seen), and how a finished task is judged (TaskFailed for failures and cancellations)."""

from __future__ import annotations

from typing import Any

import pytest
from anaplan_fakes import (
    REV_SOURCE,
    REV_TARGET,
    SOURCE,
    TARGET,
    TASK,
    FakeAnaplan,
    FakeTime,
    created_task,
    envelope,
    make_client,
    sync_success,
    task_info,
)

from alm_bot.anaplan import CompletedSyncTask, PendingTask, PollPolicy
from alm_bot.errors import TaskFailed, TaskTimeout

pytestmark = pytest.mark.anyio

ALM = f"/models/{TARGET}/alm"


def serve_sync(fake: FakeAnaplan, *infos: dict[str, Any]) -> None:
    fake.on("GET", f"{ALM}/syncTasks", envelope())
    fake.on("POST", f"{ALM}/syncTasks", envelope("task", created_task(), status=201))
    fake.on("GET", f"{ALM}/syncTasks/{TASK}", *(envelope("task", info) for info in infos))


async def sync(fake: FakeAnaplan, fake_time: FakeTime, poll: PollPolicy | None = None) -> CompletedSyncTask:
    async with make_client(fake, fake_time, poll=poll) as client:
        return await client.alm(TARGET).sync_models(REV_SOURCE, SOURCE, REV_TARGET)


async def test_polls_with_intervals_growing_by_half_up_to_five_seconds(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    running = [task_info()] * 7
    serve_sync(fake, *running, task_info(state="COMPLETE", result=sync_success()))

    task = await sync(fake, fake_time)

    assert task.result.successful
    assert fake_time.waits == [0.5, 0.75, 1.125, 1.6875, 2.53125, 3.796875, 5.0, 5.0]
    assert len(fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}")) == 8


async def test_a_task_still_running_at_the_deadline_raises_task_timeout_with_the_last_state(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync(fake, task_info())

    with pytest.raises(TaskTimeout) as caught:
        await sync(fake, fake_time, poll=PollPolicy(deadline=60.0))

    last = caught.value.task
    assert isinstance(last, PendingTask)
    assert last.current_step == "Synchronizing."
    assert sum(fake_time.waits) == pytest.approx(60.0)
    assert max(fake_time.waits) == 5.0


async def test_the_number_of_polls_is_bounded_too(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    serve_sync(fake, task_info())

    with pytest.raises(TaskTimeout):
        await sync(fake, fake_time, poll=PollPolicy(max_polls=4))

    assert len(fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}")) == 4


async def test_a_failed_sync_raises_task_failed_with_anaplans_title_message_and_subtitle(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    error = {
        "title": "Model Synchronization Failed",
        "subtitle": "Revision Release 8",
        "messageText": "The workspace size limit would be exceeded",
    }
    serve_sync(fake, task_info(state="COMPLETE", result={"successful": False, "error": error}))

    with pytest.raises(TaskFailed) as caught:
        await sync(fake, fake_time)

    failed = caught.value
    assert failed.title == "Model Synchronization Failed"
    assert "The workspace size limit would be exceeded" in failed.detail
    assert "Revision Release 8" in failed.detail
    assert failed.task_id == TASK
    assert TASK in str(failed)


async def test_a_failed_sync_with_revision_ids_in_its_result_raises_task_failed_too(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    result = {**sync_success(), "successful": False, "error": {"title": "Incompatible", "messageText": "No."}}
    serve_sync(fake, task_info(state="COMPLETE", result=result))

    with pytest.raises(TaskFailed) as caught:
        await sync(fake, fake_time)

    assert (caught.value.title, caught.value.detail, caught.value.task_id) == ("Incompatible", "No.", TASK)


async def test_a_cancelled_task_stops_the_wait_and_raises_task_failed(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync(fake, task_info(), task_info(state="CANCELLED"))

    with pytest.raises(TaskFailed, match="cancelled"):
        await sync(fake, fake_time)

    assert len(fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}")) == 2


async def test_an_unknown_state_stops_the_wait_and_raises_task_failed_naming_it(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync(fake, task_info(state="EXPLODED"))

    with pytest.raises(TaskFailed, match="EXPLODED"):
        await sync(fake, fake_time)

    assert len(fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}")) == 1


async def test_a_failed_report_raises_task_failed_without_downloading_anything(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("POST", f"{ALM}/summaryReportTasks", envelope("task", created_task(), status=201))
    failed = {"successful": False, "error": {"title": "The target and source revisions are incompatible"}}
    fake.on(
        "GET",
        f"{ALM}/summaryReportTasks/{TASK}",
        envelope("task", task_info(state="COMPLETE", result=failed)),
    )

    async with make_client(fake, fake_time) as client:
        with pytest.raises(TaskFailed, match="incompatible"):
            await client.alm(TARGET).create_comparison_summary(REV_SOURCE, SOURCE, REV_TARGET)

    assert [fake.api_path(r) for r in fake.api_calls()] == [
        f"{ALM}/summaryReportTasks",
        f"{ALM}/summaryReportTasks/{TASK}",
    ]


def test_a_poll_policy_whose_interval_would_shrink_is_refused() -> None:
    with pytest.raises(ValueError, match="shrink"):
        PollPolicy(initial_interval=5.0, max_interval=1.0)
