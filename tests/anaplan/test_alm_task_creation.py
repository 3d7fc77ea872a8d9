"""Task-creating POSTs are never replayed blindly: a sync is never started twice, a task that appeared
despite a lost answer is adopted, and an undecidable failure says so (TaskCreationUncertain)."""

from __future__ import annotations

import logging
from typing import Any

import httpx2
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
    failure,
    make_client,
    revision,
)

from alm_bot.anaplan import PendingTask, RetryPolicy
from alm_bot.errors import AnaplanUnavailable, InvalidRequest, ModelBusy, TaskCreationUncertain

pytestmark = pytest.mark.anyio

SYNC_TASKS = f"/models/{TARGET}/alm/syncTasks"
OLD_TASK = "F" * 32
OLD = {"taskId": OLD_TASK, "taskState": "COMPLETE", "creationTime": 1_600_000_000_000}
NEW = {"taskId": TASK, "taskState": "IN_PROGRESS", "creationTime": 1_700_000_000_000}


class SyncTaskList:
    """The target's sync-task list; a POST handler can make a task appear in it."""

    def __init__(self) -> None:
        self.tasks = [OLD]

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        return envelope("tasks", list(self.tasks))


def created_then(tasks: SyncTaskList, answer: httpx2.Response | type[httpx2.TransportError]):  # type: ignore[no-untyped-def]
    """A POST that Anaplan processes (the task appears) but whose answer is lost or an error."""

    def handler(request: httpx2.Request) -> httpx2.Response:
        tasks.tasks.append(NEW)
        if isinstance(answer, httpx2.Response):
            return answer
        raise answer("lost", request=request)

    return handler


def not_created(answer: httpx2.Response | type[httpx2.TransportError]):  # type: ignore[no-untyped-def]
    def handler(request: httpx2.Request) -> httpx2.Response:
        if isinstance(answer, httpx2.Response):
            return answer
        raise answer("lost", request=request)

    return handler


def finished(source: str = REV_SOURCE, target: str = REV_TARGET, **result: Any) -> httpx2.Response:
    """The candidate's task info: complete, with a result naming these revisions (or ``result``)."""
    body = result or {"successful": True, "sourceRevisionId": source, "targetRevisionId": target}
    return envelope("task", {**NEW, "taskState": "COMPLETE", "currentStep": "Complete.", "result": body})


async def sync(fake: FakeAnaplan, fake_time: FakeTime, retry: RetryPolicy | None = None) -> PendingTask:
    async with make_client(fake, fake_time, retry=retry) as client:
        return await client.alm(TARGET).sync_models(REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False)


# --- sync tasks ------------------------------------------------------------------------------------


async def test_a_sync_post_answered_503_adopts_the_task_that_appeared_instead_of_posting_again(
    fake: FakeAnaplan, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    tasks = SyncTaskList()
    fake.on("GET", SYNC_TASKS, tasks)
    fake.on("POST", SYNC_TASKS, created_then(tasks, failure(503)))
    fake.on("GET", f"{SYNC_TASKS}/{TASK}", finished())

    with caplog.at_level(logging.WARNING, logger="alm_bot.anaplan"):
        task = await sync(fake, fake_time)

    assert task.task_id == TASK
    assert task.task_state == "COMPLETE"
    assert len(fake.api_calls("POST")) == 1
    assert "adopting" in caplog.text


async def test_a_sync_post_that_timed_out_after_sending_adopts_the_task_that_appeared(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    tasks = SyncTaskList()
    fake.on("GET", SYNC_TASKS, tasks)
    fake.on("POST", SYNC_TASKS, created_then(tasks, httpx2.ReadTimeout))
    fake.on("GET", f"{SYNC_TASKS}/{TASK}", finished())

    task = await sync(fake, fake_time)

    assert task.task_id == TASK
    assert len(fake.api_calls("POST")) == 1


@pytest.mark.parametrize(
    ("candidate", "why"),
    [
        (finished(source=REV_TARGET, target=REV_TARGET), "another sync's revisions"),
        (envelope("task", {**NEW, "currentStep": "Applying revision"}), "still running"),
        (finished(successful=True), "the minimal result names no revisions"),
    ],
)
async def test_a_new_task_that_cannot_be_proven_ours_is_named_not_adopted_and_nothing_is_sent_again(
    fake: FakeAnaplan, fake_time: FakeTime, candidate: httpx2.Response, why: str
) -> None:
    tasks = SyncTaskList()
    fake.on("GET", SYNC_TASKS, tasks)
    fake.on("POST", SYNC_TASKS, created_then(tasks, failure(503)))
    fake.on("GET", f"{SYNC_TASKS}/{TASK}", candidate)

    with pytest.raises(TaskCreationUncertain) as caught:
        await sync(fake, fake_time)

    assert caught.value.candidates == (TASK,), why
    assert TASK in str(caught.value)
    assert len(fake.api_calls("POST")) == 1


async def test_a_task_older_than_the_newest_listed_before_the_post_is_not_a_candidate(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    """It did not exist in the first listing only because the list is capped or eventually consistent."""
    tasks = SyncTaskList()
    late_listed = {**NEW, "creationTime": OLD["creationTime"] - 1}

    def post(request: httpx2.Request) -> httpx2.Response:
        tasks.tasks.append(late_listed)
        raise httpx2.ReadTimeout("lost", request=request)

    fake.on("GET", SYNC_TASKS, tasks)
    fake.on("POST", SYNC_TASKS, post)

    with pytest.raises(TaskCreationUncertain) as caught:
        await sync(fake, fake_time)

    assert caught.value.candidates == ()
    assert fake.api_calls("GET", f"{SYNC_TASKS}/{TASK}") == []


async def test_a_sync_post_answered_409_is_model_busy_and_never_retried(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on("POST", SYNC_TASKS, failure(409, "Model 'FP&A PROD' is busy"))

    with pytest.raises(ModelBusy) as caught:
        await sync(fake, fake_time)

    assert caught.value.model_id == TARGET
    assert caught.value.status == 409
    assert "busy" in str(caught.value)
    assert "try again when it finishes" in str(caught.value).lower()
    assert len(fake.api_calls("POST")) == 1
    assert fake_time.waits == []


async def test_a_sync_post_that_timed_out_with_no_task_visible_raises_task_creation_uncertain(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on("POST", SYNC_TASKS, not_created(httpx2.ReadTimeout))

    with pytest.raises(
        TaskCreationUncertain, match="Check the target model's sync tasks before trying again"
    ):
        await sync(fake, fake_time)

    assert len(fake.api_calls("POST")) == 1


async def test_a_dropped_connection_after_sending_is_as_uncertain_as_a_timeout(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on("POST", SYNC_TASKS, not_created(httpx2.RemoteProtocolError))

    with pytest.raises(TaskCreationUncertain):
        await sync(fake, fake_time)

    assert len(fake.api_calls("POST")) == 1


async def test_a_sync_post_answered_503_with_no_new_task_is_posted_again(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    tasks = SyncTaskList()
    fake.on("GET", SYNC_TASKS, tasks)
    fake.on("POST", SYNC_TASKS, not_created(failure(503)), envelope("task", created_task(), status=201))

    task = await sync(fake, fake_time)

    assert task.task_id == TASK
    assert len(fake.api_calls("POST")) == 2
    assert fake_time.waits == [0.5]


async def test_sync_posts_answered_503_every_time_stop_after_the_policy_attempts(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on("POST", SYNC_TASKS, not_created(failure(503)))

    with pytest.raises(AnaplanUnavailable) as caught:
        await sync(fake, fake_time, retry=RetryPolicy(attempts=3, jitter=0.0))

    assert not isinstance(caught.value, TaskCreationUncertain)
    assert len(fake.api_calls("POST")) == 3


async def test_a_sync_post_whose_connection_was_refused_is_sent_again(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on(
        "POST", SYNC_TASKS, not_created(httpx2.ConnectError), envelope("task", created_task(), status=201)
    )

    task = await sync(fake, fake_time)

    assert task.task_id == TASK
    assert len(fake.api_calls("POST")) == 2
    assert len(fake.api_calls("GET", SYNC_TASKS)) == 1  # nothing was sent, so no need to look


async def test_a_sync_post_refused_with_429_waits_and_is_sent_again(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    fake.on(
        "POST",
        SYNC_TASKS,
        httpx2.Response(429, headers={"Retry-After": "4"}),
        envelope("task", created_task(), status=201),
    )

    await sync(fake, fake_time)

    assert fake_time.waits == [4.0]
    assert len(fake.api_calls("POST")) == 2


async def test_a_sync_post_refused_with_400_is_not_retried(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())
    message = "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'"
    fake.on("POST", SYNC_TASKS, failure(400, message))

    with pytest.raises(InvalidRequest, match="Expected mandatory fields") as caught:
        await sync(fake, fake_time)

    assert caught.value.anaplan_message == message
    assert len(fake.api_calls("POST")) == 1


async def test_when_the_task_list_cannot_be_read_after_a_503_the_post_is_not_repeated(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    tasks = SyncTaskList()
    fake.on("GET", SYNC_TASKS, tasks, failure(404))
    fake.on("POST", SYNC_TASKS, not_created(failure(503)))

    with pytest.raises(TaskCreationUncertain, match="checking for it failed too"):
        await sync(fake, fake_time)

    assert len(fake.api_calls("POST")) == 1


async def test_a_sync_post_refused_with_401_is_replayed_once_after_logging_in_again(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASKS, SyncTaskList())

    def token_expired(request: httpx2.Request) -> httpx2.Response:
        fake.revoke_tokens()
        return failure(401, "Token expired")

    fake.on("POST", SYNC_TASKS, token_expired, envelope("task", created_task(), status=201))

    task = await sync(fake, fake_time)

    assert task.task_id == TASK
    posts = fake.api_calls("POST")
    assert [p.headers["authorization"] for p in posts] == [
        "AnaplanAuthToken token-1",
        "AnaplanAuthToken token-2",
    ]
    assert fake.logins == 2


# --- revisions -------------------------------------------------------------------------------------


class LatestRevision:
    def __init__(self) -> None:
        self.latest = revision(REV_TARGET, "Release 7")

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        return envelope("revisions", [self.latest])


async def create(fake: FakeAnaplan, fake_time: FakeTime, name: str = "Release 8") -> str:
    async with make_client(fake, fake_time) as client:
        return (await client.alm(TARGET).create_revision(name, "")).id


async def test_a_revision_post_answered_502_adopts_the_new_latest_revision_with_that_name(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    latest = LatestRevision()
    fake.on("GET", f"/models/{TARGET}/alm/latestRevision", latest)

    def create_then_fail(request: httpx2.Request) -> httpx2.Response:
        latest.latest = revision(REV_SOURCE, "Release 8")
        return failure(502)

    fake.on("POST", f"/models/{TARGET}/alm/revisions", create_then_fail)

    assert await create(fake, fake_time) == REV_SOURCE
    assert len(fake.api_calls("POST")) == 1


async def test_a_revision_post_that_timed_out_with_no_new_revision_raises_task_creation_uncertain(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", f"/models/{TARGET}/alm/latestRevision", LatestRevision())
    fake.on("POST", f"/models/{TARGET}/alm/revisions", not_created(httpx2.ReadTimeout))

    with pytest.raises(TaskCreationUncertain, match="Check the model's revisions before trying again"):
        await create(fake, fake_time)

    assert len(fake.api_calls("POST")) == 1


async def test_a_new_latest_revision_with_another_name_is_not_adopted(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    latest = LatestRevision()
    fake.on("GET", f"/models/{TARGET}/alm/latestRevision", latest)

    def someone_else_tags(request: httpx2.Request) -> httpx2.Response:
        latest.latest = revision(REV_SOURCE, "Someone else's tag")
        raise httpx2.ReadTimeout("lost", request=request)

    fake.on("POST", f"/models/{TARGET}/alm/revisions", someone_else_tags)

    with pytest.raises(TaskCreationUncertain):
        await create(fake, fake_time)


# --- report tasks ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["comparisonReportTasks", "summaryReportTasks"])
async def test_a_report_post_is_simply_retried_after_a_timeout_because_a_duplicate_is_harmless(
    fake: FakeAnaplan, fake_time: FakeTime, kind: str
) -> None:
    fake.on(
        "POST",
        f"/models/{TARGET}/alm/{kind}",
        not_created(httpx2.ReadTimeout),
        failure(500),
        envelope("task", created_task(), status=201),
    )
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        if kind == "comparisonReportTasks":
            task = await alm.create_comparison_report(
                REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False
            )
        else:
            task = await alm.create_comparison_summary(
                REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False
            )

    assert task.task_id == TASK
    assert len(fake.api_calls("POST")) == 3
    assert fake_time.waits == [0.5, 1.0]
