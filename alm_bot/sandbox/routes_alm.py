"""The 15 ALM endpoints (reference §4) under ``/2/0/models/{modelId}/…``.

Routes only translate: authenticate, bring the world up to now, parse the request (`inputs`), call
the rule (`alm`), serialize the answer (`views`, `envelopes`). The rules decide every refusal.
"""

from __future__ import annotations

from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alm_bot.sandbox import alm, inputs
from alm_bot.sandbox.envelopes import success
from alm_bot.sandbox.errors import ApiError
from alm_bot.sandbox.paging import paginate
from alm_bot.sandbox.reports import comparison_report_text, summary_report
from alm_bot.sandbox.sandbox import Sandbox
from alm_bot.sandbox.state import TaskKind, User
from alm_bot.sandbox.tasks import progress_of
from alm_bot.sandbox.urls import TASK_COLLECTIONS, api_base, report_url, task_url
from alm_bot.sandbox.views import (
    applied_model_json,
    created_task_json,
    revision_json,
    task_info_json,
    task_summary_json,
)

__all__ = ["alm_routes"]

_MODEL: Final = "/2/0/models/{modelId}"
_DOWNLOADABLE: Final = frozenset({"*/*", "application/*", "application/octet-stream"})
# APIARY's schema names: sync-task info is "task", report-task info is "syncTask".
_INFO_SCHEMA: Final[dict[TaskKind, str]] = {"sync": "task", "comparison": "syncTask", "summary": "syncTask"}


def _accepts_download(accept: str) -> bool:
    """The download refuses ``Accept: application/json`` or ``text/plain`` with 406 (observed live)."""
    if not accept.strip():
        return True
    return any(part.split(";")[0].strip().lower() in _DOWNLOADABLE for part in accept.split(","))


def alm_routes(sandbox: Sandbox) -> list[Route]:
    def begin(request: Request) -> tuple[User, float]:
        return sandbox.begin_api_call(request.headers.get("authorization", ""))

    async def online_status(request: Request) -> Response:
        user, _ = begin(request)
        status = inputs.online_status(await request.body())
        alm.change_online_status(
            sandbox.world,
            user,
            request.path_params["modelId"],
            status,
            busy_check=sandbox.fidelity.model_busy,
        )
        return Response(status_code=204)

    async def latest_revision(request: Request) -> Response:
        user, _ = begin(request)
        model_id = request.path_params["modelId"]
        revision = alm.latest_revision(sandbox.world, user, model_id)
        items = [revision_json(revision, revision.application_to(model_id))] if revision else []
        return success(api_base(request), "revision", {"revisions": items})

    async def list_revisions(request: Request) -> Response:
        user, _ = begin(request)
        query = request.query_params
        window = inputs.applied_window(query)
        sort = inputs.sort_order(query, alm.REVISION_SORT_FIELDS)
        rows = alm.list_revisions(sandbox.world, user, request.path_params["modelId"], window, sort)
        chunk, paging = paginate(
            rows,
            inputs.page(query, sandbox.fidelity.max_page_size),
            request,
            links=sandbox.fidelity.paging_links,
        )
        with_applied = sandbox.fidelity.revision_list_applied
        items = [revision_json(revision, applied if with_applied else None) for revision, applied in chunk]
        return success(api_base(request), "revision", {"revisions": items}, paging=paging)

    async def create_revision(request: Request) -> Response:
        user, now = begin(request)
        name, description = inputs.revision_tag(await request.body())
        model_id = request.path_params["modelId"]
        revision = alm.create_revision(sandbox.world, user, model_id, name, description, now)
        body = revision_json(revision, revision.application_to(model_id))
        return success(api_base(request), "revision", {"revision": body}, status=201)

    async def applied_to_models(request: Request) -> Response:
        user, _ = begin(request)
        world = sandbox.world
        revision = alm.applied_revision(
            world, user, request.path_params["modelId"], request.path_params["revisionId"]
        )
        keep_ids = sandbox.fidelity.deleted_model_ids
        items = [applied_model_json(world, a, deleted_model_id=keep_ids) for a in revision.applications]
        return success(api_base(request), "revision", {"appliedToModels": items})

    async def syncable_revisions(request: Request) -> Response:
        user, _ = begin(request)
        target_id = request.path_params["modelId"]
        source_id = request.query_params.get("sourceModelId")
        revisions = alm.syncable_revisions(sandbox.world, user, target_id, source_id)
        items = [revision_json(r, r.application_to(source_id or "")) for r in revisions]
        return success(api_base(request), "revision", {"revisions": items})

    def task_creator(kind: TaskKind) -> Route:
        async def create(request: Request) -> Response:
            user, now = begin(request)
            pair = inputs.revision_pair(await request.body())
            model_id = request.path_params["modelId"]
            task = alm.start_task(
                sandbox.world,
                user,
                kind,
                model_id,
                pair,
                now,
                sandbox.task_duration,
                busy_check=sandbox.fidelity.model_busy,
            )
            url = task_url(api_base(request), kind, task.model_id, task.id)
            body = {"task": created_task_json(task, url)}
            return success(api_base(request), "taskWithUrl", body, status=201, headers={"Location": url})

        return Route(f"{_MODEL}/alm/{TASK_COLLECTIONS[kind]}", create, methods=["POST"])

    def task_reader(kind: TaskKind) -> Route:
        async def read(request: Request) -> Response:
            user, now = begin(request)
            model_id, task_id = request.path_params["modelId"], request.path_params["taskId"]
            task = alm.get_task(sandbox.world, user, kind, model_id, task_id, now)
            api = api_base(request)
            url = None
            if kind != "sync":
                url = report_url(api, kind, task.model_id, task.target_revision_id, task.source_revision_id)
            fidelity = sandbox.fidelity
            progress = progress_of(task, now, fidelity)
            body = task_info_json(task, progress, url, rich_result=fidelity.rich_result(task.seq))
            return success(api, _INFO_SCHEMA[kind], {"task": body})

        return Route(f"{_MODEL}/alm/{TASK_COLLECTIONS[kind]}/{{taskId}}", read, methods=["GET"])

    async def list_sync_tasks(request: Request) -> Response:
        user, now = begin(request)
        tasks = alm.list_sync_tasks(sandbox.world, user, request.path_params["modelId"], now)
        items = [task_summary_json(t, progress_of(t, now, sandbox.fidelity)) for t in tasks]
        return success(api_base(request), "task", {"tasks": items})

    async def comparison_report(request: Request) -> Response:
        user, now = begin(request)
        if not _accepts_download(request.headers.get("accept", "")):
            raise ApiError(406, "Not Acceptable: the report is served as application/octet-stream.")
        params = request.path_params
        report = alm.get_report(
            sandbox.world,
            user,
            "comparison",
            params["modelId"],
            params["targetRevisionId"],
            params["sourceRevisionId"],
            now,
        )
        text = comparison_report_text(sandbox.world, report)
        return Response(text.encode(), media_type="application/octet-stream")

    async def summary(request: Request) -> Response:
        user, now = begin(request)
        params = request.path_params
        report = alm.get_report(
            sandbox.world,
            user,
            "summary",
            params["modelId"],
            params["targetRevisionId"],
            params["sourceRevisionId"],
            now,
        )
        return success(
            api_base(request), "summaryReport", {"summaryReport": summary_report(sandbox.world, report)}
        )

    return [
        Route(f"{_MODEL}/onlineStatus", online_status, methods=["PUT", "POST"]),
        Route(f"{_MODEL}/alm/latestRevision", latest_revision, methods=["GET"]),
        Route(f"{_MODEL}/alm/revisions", list_revisions, methods=["GET"]),
        Route(f"{_MODEL}/alm/revisions", create_revision, methods=["POST"]),
        Route(f"{_MODEL}/alm/revisions/{{revisionId}}/appliedToModels", applied_to_models, methods=["GET"]),
        Route(f"{_MODEL}/alm/syncableRevisions", syncable_revisions, methods=["GET"]),
        task_creator("sync"),
        Route(f"{_MODEL}/alm/syncTasks", list_sync_tasks, methods=["GET"]),
        task_reader("sync"),
        task_creator("comparison"),
        task_reader("comparison"),
        Route(
            f"{_MODEL}/alm/comparisonReports/{{targetRevisionId}}/{{sourceRevisionId}}",
            comparison_report,
            methods=["GET"],
        ),
        task_creator("summary"),
        task_reader("summary"),
        Route(
            f"{_MODEL}/alm/summaryReports/{{targetRevisionId}}/{{sourceRevisionId}}", summary, methods=["GET"]
        ),
    ]
