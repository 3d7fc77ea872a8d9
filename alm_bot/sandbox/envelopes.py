"""Response envelopes: Anaplan's success wrapper and its two error shapes.

Success (reference §1.2): ``{"meta": {"schema", "paging"?}, "status": {"code", "message"}, <key>: …}``,
with the key left out when its list is empty. Errors: Integration style ``{"status": {"code",
"message"}, "path", "timestamp"}`` on the API (reference §7), and ``{"status": "FAILURE_…",
"statusMessage"}`` on the auth service (reference §2.2).
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from alm_bot.sandbox.errors import ApiError, AuthServiceError
from alm_bot.sandbox.formats import iso_timestamp

__all__ = ["api_error", "auth_error", "success"]

_STATUS_MESSAGES = {200: "Success", 201: "Created"}


def success(
    api: str,
    schema: str,
    payload: dict[str, Any],
    *,
    status: int = 200,
    paging: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """``payload`` holds the resource keys; keys whose value is an empty list are dropped."""
    meta: dict[str, Any] = {"schema": f"{api}/objects/{schema}"}
    if paging is not None:
        meta["paging"] = paging
    body: dict[str, Any] = {"meta": meta, "status": {"code": status, "message": _STATUS_MESSAGES[status]}}
    body.update((key, value) for key, value in payload.items() if value != [])
    return JSONResponse(body, status_code=status, headers=headers)


def api_error(error: ApiError, path: str, now: float) -> JSONResponse:
    body = {
        "status": {"code": error.status, "message": error.message},
        "path": path,
        "timestamp": iso_timestamp(now),
    }
    return JSONResponse(body, status_code=error.status, headers=error.headers or None)


def auth_error(error: AuthServiceError) -> JSONResponse:
    return JSONResponse({"status": error.failure, "statusMessage": error.message}, status_code=error.status)
