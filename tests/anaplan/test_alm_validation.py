"""Arguments are checked before anything is sent: a bad value raises InvalidArgument naming the
parameter and showing the value, and the fake Anaplan sees no request at all (not even a login)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from anaplan_fakes import REV_SOURCE, REV_TARGET, SOURCE, TARGET, TASK, FakeAnaplan, envelope, revision

from alm_bot.anaplan import AlmClient, AnaplanClient
from alm_bot.errors import InvalidArgument

pytestmark = pytest.mark.anyio

BAD = "not-an-id"

Call = Callable[[AlmClient], Awaitable[object]]

CASES: list[tuple[str, str, Call]] = [
    ("get_syncable_revisions", "source_model_id", lambda alm: alm.get_syncable_revisions(BAD)),
    ("get_sync_task", "task_id", lambda alm: alm.get_sync_task(BAD)),
    ("get_models_for_revision", "revision_id", lambda alm: alm.get_models_for_revision(BAD)),
    ("get_comparison_report_task", "task_id", lambda alm: alm.get_comparison_report_task(BAD)),
    ("get_comparison_summary_task", "task_id", lambda alm: alm.get_comparison_summary_task(BAD)),
    (
        "sync_models/source revision",
        "source_revision_id",
        lambda alm: alm.sync_models(BAD, SOURCE, REV_TARGET),
    ),
    ("sync_models/source model", "source_model_id", lambda alm: alm.sync_models(REV_SOURCE, BAD, REV_TARGET)),
    (
        "sync_models/target revision",
        "target_revision_id",
        lambda alm: alm.sync_models(REV_SOURCE, SOURCE, BAD),
    ),
    (
        "create_comparison_report",
        "source_model_id",
        lambda alm: alm.create_comparison_report(REV_SOURCE, BAD, REV_TARGET),
    ),
    (
        "create_comparison_summary",
        "target_revision_id",
        lambda alm: alm.create_comparison_summary(REV_SOURCE, SOURCE, BAD),
    ),
    ("create_revision/empty name", "name", lambda alm: alm.create_revision("  ", "")),
    ("create_revision/long name", "name", lambda alm: alm.create_revision("x" * 61, "")),
    ("create_revision/long description", "description", lambda alm: alm.create_revision("v1", "d" * 251)),
    ("change_model_status", "status", lambda alm: alm.change_model_status("paused")),  # type: ignore[arg-type]
    ("get_revisions", "sort_by", lambda alm: alm.get_revisions(sort_by="date")),  # type: ignore[arg-type]
]


@pytest.mark.parametrize(("operation", "argument", "call"), CASES, ids=[case[0] for case in CASES])
async def test_a_bad_argument_is_refused_by_name_before_any_request(
    fake: FakeAnaplan, alm: AlmClient, operation: str, argument: str, call: Call
) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await call(alm)

    assert caught.value.argument == argument
    assert str(caught.value).startswith(argument)
    assert fake.requests == []


async def test_a_bad_id_is_shown_in_the_message(alm: AlmClient) -> None:
    with pytest.raises(InvalidArgument, match="'not-an-id' is not an Anaplan id: an id is 32 hexadecimal"):
        await alm.get_sync_task(BAD)


async def test_a_very_long_bad_value_is_shortened_in_the_message(alm: AlmClient) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await alm.get_sync_task("z" * 5000)

    assert len(str(caught.value)) < 250


async def test_the_model_id_is_checked_when_the_alm_client_is_made(client: AnaplanClient) -> None:
    with pytest.raises(InvalidArgument, match="model_id 'FPA-PROD'"):
        client.alm("FPA-PROD")


async def test_the_discovery_calls_check_their_ids_too(fake: FakeAnaplan, client: AnaplanClient) -> None:
    with pytest.raises(InvalidArgument, match="workspace_id"):
        await client.list_models("my workspace")
    with pytest.raises(InvalidArgument, match="model_id"):
        await client.get_model(TARGET[:-1])

    assert fake.requests == []


async def test_lowercase_ids_are_accepted_and_sent_exactly_as_given(
    fake: FakeAnaplan, client: AnaplanClient
) -> None:
    lower_model, lower_task = TARGET.lower(), TASK.lower()
    fake.on(
        "GET",
        f"/models/{lower_model}/alm/syncTasks/{lower_task}",
        envelope("task", {"taskId": lower_task, "taskState": "IN_PROGRESS", "creationTime": 1}),
    )

    task = await client.alm(lower_model).get_sync_task(lower_task)

    assert task.task_id == lower_task
    assert fake.api_path(fake.api_calls()[0]) == f"/models/{lower_model}/alm/syncTasks/{lower_task}"


async def test_names_and_descriptions_at_the_limit_are_accepted(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"/models/{TARGET}/alm/latestRevision", envelope())
    fake.on("POST", f"/models/{TARGET}/alm/revisions", envelope("revision", revision(), status=201))

    await alm.create_revision("n" * 60, "d" * 250)

    assert len(fake.api_calls("POST")) == 1
