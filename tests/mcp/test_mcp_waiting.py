"""Tools that wait for an Anaplan task: they await the watcher's stored record (never polling Anaplan
themselves), progress reaches the client, and the wait is bounded.

The `services` fixture runs a watcher beside the server, as in ``alm-bot mcp`` and ``alm-bot serve``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anyio
import pytest
from mcp import Client

from alm_bot.changes import Changes
from alm_bot.errors import AnaplanUnavailable
from alm_bot.mcp.waiting import Waited, progress_message, wait_for_task
from alm_bot.records import TaskOutcome
from alm_bot.sandbox import Sandbox
from alm_bot.services import Services
from alm_bot.store import TrackedTask
from tests.mcp.calls import ok

pytestmark = pytest.mark.anyio

RUNNING_FOR_EVER = 10_000.0


@pytest.fixture
def task_duration() -> float:
    return 0.3  # long enough to be seen running, short enough to keep the tests quick


def anaplan_task_reads(sandbox: Sandbox, task_id: str) -> int:
    return sum(1 for e in sandbox.request_log if e.method == "GET" and e.path.endswith(task_id))


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


@pytest.mark.usefixtures("unprotect_test")
async def test_a_waiting_tool_reads_anaplan_once_and_leaves_the_polling_to_the_watcher(
    client: Client, sandbox: Sandbox, services: Services
) -> None:
    arguments = {"source_model": "dev", "target_model": "test", "wait_for_completion": True}
    outcome = await ok(client, "alm_sync_models", arguments)
    assert outcome["status"] == "succeeded"
    followed = await services.store.list_tasks(state="finished")
    polls = sum(t.attempts for t in followed if t.anaplan_task_id == outcome["task_id"])
    assert anaplan_task_reads(sandbox, outcome["task_id"]) <= polls + 1  # the watcher's, plus one at the end


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


# --- the waiting on its own ---------------------------------------------------------------------


@dataclass
class Stored:
    """A stand-in for the watcher's record: what ``follow`` returns, changed by the test."""

    record: TrackedTask | None = None
    reads: int = 0

    async def follow(self) -> TrackedTask | None:
        return self.record

    async def read(self) -> str:
        self.reads += 1
        return "the task as Anaplan shows it"


def running(step: str | None = "Merging") -> TrackedTask:
    return TrackedTask(id=1, kind="sync", model_id="M", anaplan_task_id="T1", last_step=step)


def finished(successful: bool) -> TrackedTask:
    result = TaskOutcome(successful=successful, task_state="COMPLETE")
    return TrackedTask(id=1, kind="sync", model_id="M", anaplan_task_id="T1", state="finished", result=result)


async def _wait(stored: Stored, changes: Changes, progress: Progress, max_wait: float) -> Waited[str]:
    return await wait_for_task(
        changes, stored.follow, stored.read, progress, max_wait=max_wait, label="sync", task_id="T1"
    )


async def test_the_wait_ends_as_soon_as_the_record_says_finished_and_reads_anaplan_once() -> None:
    stored, changes, progress = Stored(running()), Changes(), Progress()
    async with anyio.create_task_group() as tg:

        async def finish_soon() -> None:
            await anyio.wait_all_tasks_blocked()
            stored.record = finished(True)
            changes.publish()

        tg.start_soon(finish_soon)
        with anyio.fail_after(5):
            waited = await _wait(stored, changes, progress, max_wait=30)
    assert waited == Waited("the task as Anaplan shows it")
    assert stored.reads == 1
    assert [m for _, _, m in progress.seen] == ["sync task T1: Merging", "sync task T1: COMPLETE, succeeded"]


async def test_a_failing_check_stops_the_wait_and_says_why() -> None:
    class Broken(Stored):
        async def read(self) -> str:
            raise AnaplanUnavailable("Anaplan did not answer.")

    waited = await _wait(Broken(finished(False)), Changes(), Progress(), max_wait=30)
    assert waited.task is None
    assert waited.note == "Stopped waiting because checking the task failed: Anaplan did not answer."


def test_the_progress_message_shows_the_stored_step_or_how_it_ended() -> None:
    assert progress_message("sync", "T1", running()) == "sync task T1: Merging"
    assert progress_message("sync", "T1", running(None)) == "sync task T1: started, not checked yet"
    assert progress_message("sync", "T1", finished(False)) == "sync task T1: COMPLETE, failed"
    assert progress_message("sync", "T1", None) == "sync task T1: not followed yet"
