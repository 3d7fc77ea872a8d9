"""How Anaplan's error answers become alm-bot errors: the class, a sentence the user can act on,
Anaplan's own message kept, the status and the path."""

from __future__ import annotations

import httpx2
import pytest
from anaplan_fakes import (
    REV_SOURCE,
    REV_TARGET,
    SOURCE,
    TARGET,
    TASK,
    FakeAnaplan,
    envelope,
    failure,
    report_success,
    task_info,
)

from alm_bot.anaplan import AlmClient, CompletedReportTask
from alm_bot.errors import (
    AnaplanError,
    InvalidRequest,
    ModelArchived,
    NotFound,
    PermissionDenied,
)

pytestmark = pytest.mark.anyio

ALM = f"/models/{TARGET}/alm"
DONE = CompletedReportTask.model_validate(task_info(state="COMPLETE", result=report_success()))


async def test_a_400_keeps_anaplans_status_message(fake: FakeAnaplan, alm: AlmClient) -> None:
    text = "The title of your revision tag must be 60 characters or fewer."
    fake.on("GET", f"{ALM}/latestRevision", envelope())
    fake.on("POST", f"{ALM}/revisions", failure(400, text))

    with pytest.raises(InvalidRequest) as caught:
        await alm.create_revision("v1", "")

    error = caught.value
    assert error.anaplan_message == text
    assert str(error) == f"Anaplan refused to create revision 'v1' in model {TARGET}: {text}"
    assert (error.status, error.path) == (400, f"{ALM}/revisions")


async def test_a_400_with_a_plain_text_body_keeps_the_raw_text(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on(
        "GET", f"{ALM}/revisions", httpx2.Response(400, text="Date query parameter must be of the format")
    )

    with pytest.raises(InvalidRequest) as caught:
        await alm.get_revisions()

    assert caught.value.anaplan_message == "Date query parameter must be of the format"


async def test_a_403_asks_for_the_workspace_administrator_role_on_the_model(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/revisions", failure(403, "Forbidden"))

    with pytest.raises(PermissionDenied, match="Workspace Administrator role on the model") as caught:
        await alm.get_revisions()

    assert caught.value.status == 403


async def test_a_403_on_a_cross_model_call_asks_for_the_role_on_both_models(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/syncableRevisions", failure(403))

    with pytest.raises(PermissionDenied, match="on both the source and the target model"):
        await alm.get_syncable_revisions(SOURCE)


@pytest.mark.parametrize("path", ["comparisonReportTasks", "summaryReportTasks"])
async def test_a_424_on_a_report_endpoint_is_a_missing_role_on_both_models(
    fake: FakeAnaplan, alm: AlmClient, path: str
) -> None:
    fake.on("POST", f"{ALM}/{path}", failure(424, ""))

    create = (
        alm.create_comparison_report if path == "comparisonReportTasks" else alm.create_comparison_summary
    )

    with pytest.raises(PermissionDenied, match="Workspace Administrator role on both") as caught:
        await create(REV_SOURCE, SOURCE, REV_TARGET, wait_for_completion=False)

    assert caught.value.status == 424


async def test_a_424_on_the_report_download_is_a_missing_role(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/comparisonReports/{REV_TARGET}/{REV_SOURCE}", failure(424))

    with pytest.raises(PermissionDenied):
        await alm.get_comparison_report(DONE)


async def test_a_424_elsewhere_is_a_plain_anaplan_error(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/syncTasks", failure(424, "Failed dependency"))

    with pytest.raises(AnaplanError) as caught:
        await alm.get_sync_tasks()

    assert not isinstance(caught.value, PermissionDenied)
    assert (caught.value.status, caught.value.anaplan_message) == (424, "Failed dependency")


async def test_a_404_says_unknown_or_inaccessible(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("GET", f"{ALM}/syncTasks/{TASK}", failure(404, "Not Found"))

    with pytest.raises(NotFound) as caught:
        await alm.get_sync_task(TASK)

    assert (caught.value.status, caught.value.path) == (404, f"{ALM}/syncTasks/{TASK}")


async def test_a_404_on_the_report_download_says_not_generated_yet_or_expired(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", f"{ALM}/comparisonReports/{REV_TARGET}/{REV_SOURCE}", failure(404))

    with pytest.raises(NotFound, match="not generated yet or expired after 48 h"):
        await alm.get_comparison_report(DONE)


async def test_a_422_says_the_model_is_archived(fake: FakeAnaplan, alm: AlmClient) -> None:
    fake.on("PUT", f"/models/{TARGET}/onlineStatus", failure(422, "Model is archived"))

    with pytest.raises(ModelArchived) as caught:
        await alm.change_model_status("online")

    assert (caught.value.status, caught.value.model_id) == (422, TARGET)


async def test_every_error_message_is_a_complete_sentence(fake: FakeAnaplan, alm: AlmClient) -> None:
    for status in (400, 403, 404, 409, 422):
        fake.on("GET", f"{ALM}/syncTasks", failure(status, "nope"))
        with pytest.raises(AnaplanError) as caught:
            await alm.get_sync_tasks()
        message = str(caught.value)
        assert message[0].isupper()
        assert message.endswith(".")
