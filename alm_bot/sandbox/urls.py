"""Absolute URLs the sandbox hands out, built from the request so they work wherever it is served.

The base is the request's scheme and host plus the ASGI ``root_path`` — the mount prefix when the
app is mounted (``Mount("/sandbox", app)``) — so a ``Location`` or ``taskUrl`` always points back
at this same app. (Starlette's ``request.base_url`` uses the outermost root path and would drop it.)
"""

from __future__ import annotations

from starlette.requests import Request

__all__ = ["TASK_COLLECTIONS", "api_base", "app_base", "model_url", "report_url", "task_url"]

TASK_COLLECTIONS = {
    "sync": "syncTasks",
    "comparison": "comparisonReportTasks",
    "summary": "summaryReportTasks",
}
_REPORT_COLLECTIONS = {"comparison": "comparisonReports", "summary": "summaryReports"}


def app_base(request: Request) -> str:
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}"


def api_base(request: Request) -> str:
    return f"{app_base(request)}/2/0"


def task_url(api: str, kind: str, model_id: str, task_id: str) -> str:
    return f"{api}/models/{model_id}/alm/{TASK_COLLECTIONS[kind]}/{task_id}"


def report_url(api: str, kind: str, model_id: str, target_revision_id: str, source_revision_id: str) -> str:
    return (
        f"{api}/models/{model_id}/alm/{_REPORT_COLLECTIONS[kind]}/{target_revision_id}/{source_revision_id}"
    )


def model_url(request: Request, workspace_id: str, model_id: str) -> str:
    """Where a browser would open the model (the sandbox serves no UI there)."""
    return (
        f"{app_base(request)}/anaplan/framework.jsp?selectedWorkspaceId={workspace_id}"
        f"&takeAction=modelDetail&selectedModelId={model_id}"
    )
