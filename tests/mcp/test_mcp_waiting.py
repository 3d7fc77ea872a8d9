"""Tools that wait for an Anaplan task: progress reaches the client, and the wait is bounded."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from mcp import Client

from alm_bot.errors import AnaplanUnavailable
from alm_bot.mcp.waiting import progress_message, wait_for_task
from alm_bot.sandbox import Sandbox
from tests.mcp.calls import ok

pytestmark = pytest.mark.anyio

RUNNING_FOR_EVER = 10_000.0


@pytest.fixture
def task_duration() -> float:
    return 0.3  # long enough to be seen running, short enough to keep the tests quick


@dataclass
class Progress:
    seen: list[tuple[float, float | None, str | None]] = field(default_factory=list)

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.seen.append((progress, total, message))


@pytest.mark.usefixtures("unprotect_test")
async def test_progress_of_a_waited_sync_reaches_the_client(client: Client) -> None:
    progress = Progress()
    arguments = {"source_model": "dev", "target_model": "test", "wait_for_completion": True}
    result = await client.call_tool("alm_sync_models", arguments, progress_callback=progress)
    assert result.structured_content is not None
    assert result.structured_content["status"] == "succeeded"
    assert len(progress.seen) >= 2
    values = [value for value, _, _ in progress.seen]
    assert values == sorted(set(values)), "progress must increase with every notification"
    assert all(total == 60 for _, total, _ in progress.seen)
    assert "COMPLETE" in (progress.seen[-1][2] or "")
    assert "sync task" in (progress.seen[0][2] or "")


async def test_progress_of_a_waited_comparison_reaches_the_client(client: Client) -> None:
    progress = Progress()
    arguments = {"source_model": "dev", "target_model": "prod", "wait_for_completion": True}
    result = await client.call_tool("alm_create_comparison_summary", arguments, progress_callback=progress)
    assert result.structured_content is not None
    assert result.structured_content["status"] == "succeeded"
    assert progress.seen
    assert "comparison summary task" in (progress.seen[-1][2] or "")


@pytest.mark.usefixtures("unprotect_test")
async def test_a_zero_wait_returns_the_running_task_and_how_to_check_it(client: Client) -> None:
    arguments = {
        "source_model": "dev",
        "target_model": "test",
        "wait_for_completion": True,
        "max_wait_seconds": 0,
    }
    outcome = await ok(client, "alm_sync_models", arguments)
    assert outcome["status"] == "started"
    assert outcome["task"]["finished"] is False
    assert f"alm_get_sync_task(model='test', task_id='{outcome['task_id']}')" in outcome["message"]


@pytest.mark.usefixtures("unprotect_test")
async def test_the_wait_ends_after_max_wait_seconds_with_a_handle(client: Client, sandbox: Sandbox) -> None:
    sandbox.task_duration = RUNNING_FOR_EVER
    arguments = {
        "source_model": "dev",
        "target_model": "test",
        "wait_for_completion": True,
        "max_wait_seconds": 1,
    }
    outcome = await ok(client, "alm_sync_models", arguments)
    assert outcome["status"] == "started"
    assert outcome["task"]["finished"] is False
    assert "still running when the wait ended" in outcome["message"]


async def test_a_comparison_still_running_says_how_to_check_later(client: Client, sandbox: Sandbox) -> None:
    sandbox.task_duration = RUNNING_FOR_EVER
    arguments = {
        "source_model": "dev",
        "target_model": "prod",
        "wait_for_completion": True,
        "max_wait_seconds": 0,
    }
    outcome = await ok(client, "alm_create_comparison_report", arguments)
    assert outcome["status"] == "running"
    assert (
        f"alm_get_comparison_report_task(model='prod', task_id='{outcome['task_id']}')"
        in outcome["next_step"]
    )


# --- the waiting loop on its own -------------------------------------------------------------------


@dataclass
class FakeTask:
    task_id: str = "T1"
    task_state: str = "IN_PROGRESS"
    current_step: str | None = "Merging"
    progress: float | None = 0.4
    is_finished: bool = False


async def test_a_failing_check_stops_the_wait_and_says_why() -> None:
    progress = Progress()
    calls = 0

    async def fetch() -> FakeTask:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise AnaplanUnavailable("Anaplan did not answer.")
        return FakeTask()

    waited = await wait_for_task(fetch, progress, max_wait=30, label="sync")
    assert waited.task == FakeTask()
    assert waited.note == "Stopped waiting because checking the task failed: Anaplan did not answer."
    assert len(progress.seen) == 1


async def test_a_finished_task_ends_the_wait_at_the_first_check() -> None:
    progress = Progress()

    async def fetch() -> FakeTask:
        return FakeTask(task_state="COMPLETE", progress=1.0, current_step=None, is_finished=True)

    waited = await wait_for_task(fetch, progress, max_wait=30, label="sync")
    assert waited.task is not None
    assert waited.task.is_finished
    assert [message for _, _, message in progress.seen] == ["sync task T1: COMPLETE, 100%"]


def test_the_progress_message_shows_state_percentage_and_step() -> None:
    assert progress_message("sync", FakeTask()) == "sync task T1: IN_PROGRESS, 40% (Merging)"
    assert progress_message("sync", FakeTask(progress=None, current_step=None)) == "sync task T1: IN_PROGRESS"
