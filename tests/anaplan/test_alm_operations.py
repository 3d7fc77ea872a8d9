"""Each of the 15 ALM operations: what goes on the wire (method, path, query, body, headers) and how
the answer is read, including Anaplan's quirks (dropped list keys, epoch-ms times, plural
latestRevision, failed results without revision ids, open summary categories, CANCELLED)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx2
import pytest
from anaplan_fakes import (
    API,
    REV_SOURCE,
    REV_TARGET,
    SOURCE,
    TARGET,
    TASK,
    FakeAnaplan,
    created_task,
    envelope,
    report_success,
    revision,
    sync_success,
    task_info,
)

from alm_bot.anaplan import (
    AlmClient,
    CompletedReportTask,
    CompletedSyncTask,
    ModelRevision,
    PendingTask,
    Revision,
    SummaryReport,
    TaskSummary,
)
from alm_bot.errors import InvalidArgument

pytestmark = pytest.mark.anyio

ALM = f"/models/{TARGET}/alm"


def body_of(request: httpx2.Request) -> object:
    return json.loads(request.content)


# --- change_model_status ---------------------------------------------------------------------------


async def test_change_model_status_puts_the_status_and_accepts_204(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("PUT", f"/models/{TARGET}/onlineStatus", httpx2.Response(204))

    assert await alm.change_model_status("offline") is None

    (put,) = fake.api_calls("PUT")
    assert body_of(put) == {"status": "offline"}
    assert put.headers["content-type"] == "application/json"
    assert put.headers["authorization"] == "AnaplanAuthToken token-1"


# --- revisions -------------------------------------------------------------------------------------


async def test_get_revisions_asks_for_the_largest_page_and_reads_optional_fields(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    full = revision(
        REV_SOURCE, "v2", description="More", appliedOn="2021-03-11T08:00:00Z", appliedBy="ab" * 16
    )
    bare = revision(REV_TARGET, "v1")  # appliedOn/appliedBy/description absent, as in Anaplan's example
    fake.on("GET", f"{ALM}/revisions", envelope("revisions", [full, bare]))

    revisions = await alm.get_revisions()

    (get,) = fake.api_calls("GET")
    assert dict(get.url.params) == {"limit": "5000", "offset": "0"}
    assert get.headers["accept"] == "application/json"
    assert [r.id for r in revisions] == [REV_SOURCE, REV_TARGET]
    assert revisions[0].applied_on == datetime(2021, 3, 11, 8, tzinfo=UTC)
    assert revisions[0].description == "More"
    assert revisions[1].applied_on is None
    assert revisions[1].applied_by is None
    assert revisions[1].description is None


@pytest.mark.parametrize(
    ("sort_by", "descending", "sort"),
    [
        ("created_on", False, "+createdOn"),
        ("created_on", True, "-createdOn"),
        ("applied_on", False, "+appliedOn"),
        ("name", True, "-name"),
        ("id", False, "+id"),
    ],
)
async def test_get_revisions_sends_sort_as_signed_camel_case_field(
    fake: FakeAnaplan, alm: AlmClient, sort_by: str, descending: bool, sort: str
) -> None:
    fake.on("GET", f"{ALM}/revisions", envelope("revisions", [revision()]))

    await alm.get_revisions(sort_by=sort_by, descending=descending)  # type: ignore[arg-type]

    assert fake.api_calls("GET")[0].url.params["sort"] == sort


async def test_get_revisions_without_the_revisions_key_is_an_empty_list(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on(
        "GET",
        f"{ALM}/revisions",
        envelope(meta={"paging": {"currentPageSize": 0, "offset": 0, "totalSize": 0}}),
    )

    assert await alm.get_revisions() == []


async def test_get_revisions_reads_every_page_and_follows_a_server_truncated_page_size(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    all_revisions = [revision(f"{i:032X}", f"v{i}") for i in range(5)]

    def page(request: httpx2.Request) -> httpx2.Response:
        offset = int(request.url.params["offset"])
        chunk = all_revisions[offset : offset + 2]  # the server caps every page at 2, whatever limit says
        paging = {"currentPageSize": len(chunk), "offset": offset, "totalSize": 5}
        return envelope("revisions", chunk, meta={"paging": paging})

    fake.on("GET", f"{ALM}/revisions", page)

    revisions = await alm.get_revisions(sort_by="created_on")

    assert [r.name for r in revisions] == ["v0", "v1", "v2", "v3", "v4"]
    assert [get.url.params["offset"] for get in fake.api_calls("GET")] == ["0", "2", "4"]
    assert all(get.url.params["sort"] == "+createdOn" for get in fake.api_calls("GET"))


async def test_get_revisions_without_paging_meta_reads_one_page(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/revisions", envelope("revisions", [revision(), revision(REV_TARGET, "v0")]))

    assert len(await alm.get_revisions()) == 2
    assert len(fake.api_calls("GET")) == 1


async def test_get_latest_revision_reads_the_single_element_of_the_plural_list(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/latestRevision", envelope("revisions", [revision(REV_TARGET, "Release 7")]))

    latest = await alm.get_latest_revision()

    assert isinstance(latest, Revision)
    assert (latest.id, latest.name) == (REV_TARGET, "Release 7")


async def test_get_latest_revision_without_the_revisions_key_is_none(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/latestRevision", envelope())

    assert await alm.get_latest_revision() is None


async def test_get_syncable_revisions_asks_the_target_about_the_source(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/syncableRevisions", envelope("revisions", [revision()]))

    revisions = await alm.get_syncable_revisions(SOURCE)

    (get,) = fake.api_calls("GET")
    assert fake.api_path(get) == f"/models/{TARGET}/alm/syncableRevisions"
    assert dict(get.url.params) == {"sourceModelId": SOURCE}
    assert [r.id for r in revisions] == [REV_SOURCE]


async def test_get_syncable_revisions_without_the_key_is_an_empty_list(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/syncableRevisions", envelope())

    assert await alm.get_syncable_revisions(SOURCE) == []


async def test_create_revision_posts_name_and_description_and_reads_the_singular_revision(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/latestRevision", envelope("revisions", [revision(REV_TARGET, "old")]))
    made = revision(
        REV_SOURCE, "Release 8", description="Q3 changes", creationMethod="User added revision via API"
    )
    fake.on("POST", f"{ALM}/revisions", envelope("revision", made, status=201))

    created = await alm.create_revision("Release 8", "Q3 changes")

    (post,) = fake.api_calls("POST")
    assert body_of(post) == {"name": "Release 8", "description": "Q3 changes"}
    assert created.id == REV_SOURCE
    assert created.creation_method == "User added revision via API"


async def test_create_revision_with_an_empty_description_sends_none(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/latestRevision", envelope())
    fake.on("POST", f"{ALM}/revisions", envelope("revision", revision(), status=201))

    await alm.create_revision("v1", "")

    assert body_of(fake.api_calls("POST")[0]) == {"name": "v1"}


async def test_get_models_for_revision_reads_deleted_and_nameless_models(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    applied = [
        {
            "modelId": SOURCE,
            "modelName": "FP&A Dev",
            "workspaceId": "8a81b09d5e8c6f27015ece3402487d33",
            "appliedBy": "ab" * 16,
            "appliedOn": "2021-03-10T11:31:08Z",
            "appliedMethod": "User added revision",
        },
        {"modelId": TARGET, "appliedOn": "2021-03-12T09:00:00Z", "appliedMethod": "Revision synchronized"},
        {"modelId": "F" * 32, "modelDeleted": True, "appliedMethod": "Revision synchronized"},
    ]
    fake.on("GET", f"{ALM}/revisions/{REV_SOURCE}/appliedToModels", envelope("appliedToModels", applied))

    models = await alm.get_models_for_revision(REV_SOURCE)

    assert all(isinstance(m, ModelRevision) for m in models)
    assert [m.model_name for m in models] == ["FP&A Dev", "", ""]
    assert [m.model_deleted for m in models] == [False, False, True]


async def test_get_models_for_revision_without_the_key_is_an_empty_list(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/revisions/{REV_SOURCE}/appliedToModels", envelope())

    assert await alm.get_models_for_revision(REV_SOURCE) == []


# --- sync tasks ------------------------------------------------------------------------------------


async def test_get_sync_tasks_reads_epoch_millisecond_creation_times(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    tasks = [
        {"taskId": TASK, "taskState": "COMPLETE", "creationTime": 1_615_375_868_000},
        {"taskId": "F" * 32, "taskState": "CANCELLED", "creationTime": 1_615_375_900_000},
    ]
    fake.on("GET", f"{ALM}/syncTasks", envelope("tasks", tasks))

    listed = await alm.get_sync_tasks()

    assert all(isinstance(t, TaskSummary) for t in listed)
    assert listed[0].creation_time == datetime(2021, 3, 10, 11, 31, 8, tzinfo=UTC)
    assert [t.task_state for t in listed] == ["COMPLETE", "CANCELLED"]


async def test_get_sync_tasks_without_the_tasks_key_is_an_empty_list(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/syncTasks", envelope())

    assert await alm.get_sync_tasks() == []


async def test_get_sync_task_reads_a_running_task_as_pending(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/syncTasks/{TASK}", envelope("task", task_info()))

    task = await alm.get_sync_task(TASK)

    assert isinstance(task, PendingTask)
    assert (task.task_state, task.current_step) == ("IN_PROGRESS", "Synchronizing.")


async def test_get_sync_task_reads_a_successful_result(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on(
        "GET", f"{ALM}/syncTasks/{TASK}", envelope("task", task_info(state="COMPLETE", result=sync_success()))
    )

    task = await alm.get_sync_task(TASK)

    assert isinstance(task, CompletedSyncTask)
    assert task.result.successful
    assert task.result.target_revision_id == REV_TARGET


async def test_get_sync_task_reads_a_failed_result_without_revision_ids(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    failed = {
        "successful": False,
        "error": {
            "title": "Model Synchronization Failed",
            "messageText": "The workspace size limit would be exceeded.",
        },
    }
    fake.on("GET", f"{ALM}/syncTasks/{TASK}", envelope("task", task_info(state="COMPLETE", result=failed)))

    task = await alm.get_sync_task(TASK)

    assert isinstance(task, CompletedSyncTask)
    assert not task.result.successful
    assert task.result.source_revision_id is None
    assert task.result.error is not None
    assert task.result.error.title == "Model Synchronization Failed"


async def test_get_sync_task_reads_a_cancelled_task_without_result(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/syncTasks/{TASK}", envelope("task", task_info(state="CANCELLED")))

    task = await alm.get_sync_task(TASK)

    assert isinstance(task, PendingTask)
    assert task.task_state == "CANCELLED"


async def test_sync_models_without_waiting_posts_the_three_ids_to_the_target_and_returns_the_created_task(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/syncTasks", envelope())
    fake.on("POST", f"{ALM}/syncTasks", envelope("task", created_task(), status=201))

    task = await alm.sync_models(REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False)

    (post,) = fake.api_calls("POST")
    assert fake.api_path(post) == f"/models/{TARGET}/alm/syncTasks"
    assert body_of(post) == {
        "sourceRevisionId": REV_SOURCE,
        "sourceModelId": SOURCE,
        "targetRevisionId": REV_TARGET,
    }
    assert isinstance(task, PendingTask)
    assert (task.task_id, task.task_state, task.current_step) == (TASK, "IN_PROGRESS", None)
    assert fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}") == []  # no extra GET of the task


async def test_sync_models_waiting_returns_the_completed_task(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/syncTasks", envelope())
    fake.on("POST", f"{ALM}/syncTasks", envelope("task", created_task(), status=201))
    fake.on(
        "GET",
        f"{ALM}/syncTasks/{TASK}",
        envelope("task", task_info()),
        envelope("task", task_info(state="COMPLETE", result=sync_success())),
    )

    task = await alm.sync_models(REV_SOURCE, SOURCE, REV_TARGET)

    assert isinstance(task, CompletedSyncTask)
    assert task.result.source_revision_id == REV_SOURCE
    assert len(fake.api_calls("GET", f"{ALM}/syncTasks/{TASK}")) == 2


# --- comparison reports ----------------------------------------------------------------------------


async def test_create_comparison_report_without_waiting_returns_the_created_task_only(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("POST", f"{ALM}/comparisonReportTasks", envelope("task", created_task(), status=201))

    task = await alm.create_comparison_report(REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False)

    assert isinstance(task, PendingTask)
    assert body_of(fake.api_calls("POST")[0]) == {
        "sourceRevisionId": REV_SOURCE,
        "sourceModelId": SOURCE,
        "targetRevisionId": REV_TARGET,
    }
    assert len(fake.api_calls()) == 1


async def test_create_comparison_report_waiting_returns_the_completed_task(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("POST", f"{ALM}/comparisonReportTasks", envelope("task", created_task(), status=201))
    done = task_info(state="COMPLETE", result=report_success())
    fake.on("GET", f"{ALM}/comparisonReportTasks/{TASK}", envelope("task", done))

    task = await alm.create_comparison_report(REV_SOURCE, SOURCE, REV_TARGET)

    assert isinstance(task, CompletedReportTask)
    assert task.result.report_file_url is not None


async def test_get_comparison_report_task_reads_the_report_url(fake: FakeAnaplan, alm: AlmClient) -> None:
    done = task_info(state="COMPLETE", result=report_success())
    fake.on("GET", f"{ALM}/comparisonReportTasks/{TASK}", envelope("task", done))

    task = await alm.get_comparison_report_task(TASK)

    assert isinstance(task, CompletedReportTask)
    assert (
        task.result.report_file_url
        == f"{API}/models/{TARGET}/alm/comparisonReports/{REV_TARGET}/{REV_SOURCE}"
    )


async def test_get_comparison_report_task_reads_a_failure_without_revision_ids(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    failed = {
        "successful": False,
        "error": {
            "title": "The target and source revisions are incompatible",
            "messageText": "Pick another.",
        },
    }
    fake.on(
        "GET",
        f"{ALM}/comparisonReportTasks/{TASK}",
        envelope("task", task_info(state="COMPLETE", result=failed)),
    )

    task = await alm.get_comparison_report_task(TASK)

    assert isinstance(task, CompletedReportTask)
    assert not task.result.successful
    assert task.result.target_revision_id is None


async def test_get_comparison_report_downloads_target_first_as_octet_stream(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    tsv = b"Source Workspace\tWS\n=== MODULES ADDED ===\nName\tItems\nRevenue\t4\n"
    fake.on(
        "GET",
        f"{ALM}/comparisonReports/{REV_TARGET}/{REV_SOURCE}",
        httpx2.Response(200, content=tsv, headers={"content-type": "application/octet-stream"}),
    )
    done = CompletedReportTask.model_validate(task_info(state="COMPLETE", result=report_success()))

    report = await alm.get_comparison_report(done)

    (get,) = fake.api_calls("GET")
    assert fake.api_path(get) == f"/models/{TARGET}/alm/comparisonReports/{REV_TARGET}/{REV_SOURCE}"
    assert get.headers["accept"] == "application/octet-stream"
    assert report == tsv


async def test_get_comparison_report_of_an_unfinished_task_is_refused_before_sending(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    pending = PendingTask.model_validate(created_task())

    with pytest.raises(InvalidArgument, match=TASK) as caught:
        await alm.get_comparison_report(pending)

    assert caught.value.argument == "task"
    assert fake.requests == []


# --- comparison summaries --------------------------------------------------------------------------


async def test_create_comparison_summary_waiting_returns_the_summary_with_defaults_for_missing_counts(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("POST", f"{ALM}/summaryReportTasks", envelope("task", created_task(), status=201))
    done = task_info(state="COMPLETE", result=report_success("summaryReports"))
    fake.on("GET", f"{ALM}/summaryReportTasks/{TASK}", envelope("task", task_info()), envelope("task", done))
    summary = {
        "targetRevisionId": REV_TARGET,
        "sourceRevisionId": REV_SOURCE,
        "totals": {"modified": 1, "created": 3},  # zero deleted left out
        "differences": {
            "modules": {"created": 2},
            "lineItems": {"created": 1, "modified": 1},
            "listSubsets": {},
        },
    }
    fake.on("GET", f"{ALM}/summaryReports/{REV_TARGET}/{REV_SOURCE}", envelope("summaryReport", summary))

    report = await alm.create_comparison_summary(REV_SOURCE, SOURCE, REV_TARGET)

    assert isinstance(report, SummaryReport)
    assert (report.totals.created, report.totals.modified, report.totals.deleted) == (3, 1, 0)
    assert report.differences["modules"].modified == 0
    assert report.differences["listSubsets"].total == 0
    assert "lists" not in report.differences  # a category without changes is simply absent


async def test_create_comparison_summary_without_waiting_returns_the_created_task(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("POST", f"{ALM}/summaryReportTasks", envelope("task", created_task(), status=201))

    task = await alm.create_comparison_summary(REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False)

    assert isinstance(task, PendingTask)
    assert len(fake.api_calls()) == 1


async def test_get_comparison_summary_task_reads_the_summary_task(fake: FakeAnaplan, alm: AlmClient) -> None:
    done = task_info(state="COMPLETE", result=report_success("summaryReports"))
    fake.on("GET", f"{ALM}/summaryReportTasks/{TASK}", envelope("task", done))

    task = await alm.get_comparison_summary_task(TASK)

    assert isinstance(task, CompletedReportTask)
    assert fake.api_path(fake.api_calls()[0]) == f"/models/{TARGET}/alm/summaryReportTasks/{TASK}"


async def test_get_comparison_summary_reads_an_empty_summary_as_zeros(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on(
        "GET",
        f"{ALM}/summaryReports/{REV_TARGET}/{REV_SOURCE}",
        envelope("summaryReport", {"targetRevisionId": REV_TARGET, "sourceRevisionId": REV_SOURCE}),
    )
    done = CompletedReportTask.model_validate(
        task_info(state="COMPLETE", result=report_success("summaryReports"))
    )

    report = await alm.get_comparison_summary(done)

    assert report.totals.total == 0
    assert report.differences == {}


# --- the client itself -----------------------------------------------------------------------------


async def test_alm_client_exposes_its_model_id(alm: AlmClient) -> None:
    assert alm.model_id == TARGET


async def test_a_response_that_does_not_fit_is_an_anaplan_error_naming_the_action(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    from alm_bot.errors import AnaplanError

    fake.on("GET", f"{ALM}/syncTasks/{TASK}", envelope("task", {"taskState": "COMPLETE"}))

    with pytest.raises(AnaplanError, match=f"read sync task {TASK}") as caught:
        await alm.get_sync_task(TASK)

    assert "could not read" in str(caught.value)
