"""Sandbox-only control endpoints under ``/_sandbox`` — for tests, demos and rehearsals.

They need no token, are not rate limited, cannot be faulted and are not written to the request
log. Bodies and answers are JSON with snake_case keys:

- ``GET  /_sandbox`` — the logins, model ids and URLs of this sandbox;
- ``POST /_sandbox/reset`` — back to the seed data (sessions and clock survive);
- ``GET|POST|DELETE /_sandbox/faults`` — list, add (``{"method", "path", "status", "times",
  "retry_after", "delay"}``, see `alm_bot.sandbox.faults`), clear;
- ``POST /_sandbox/models/{modelId}/structural-change`` — one structural change: the next synthetic
  one, or the one an optional body names (`alm_bot.sandbox.structural`);
- ``POST /_sandbox/models/{modelId}/fail-next-sync`` — the next sync into the model fails
  ("Model Synchronization Failed": workspace size limit);
- ``POST /_sandbox/models/{modelId}/skip-next-sync`` — the next sync into the model completes
  successfully but leaves the model at its revision (rehearses a failed verification);
- ``POST /_sandbox/models/{modelId}/state`` ``{"active_state": "LOCKED"}`` — force a state;
- ``GET|DELETE /_sandbox/requests`` — the request log (method, path, status, time), or clear it;
- ``GET|POST /_sandbox/clock`` ``{"advance": seconds}`` — read or move sandbox time;
- ``POST /_sandbox/rate-limit`` ``{"per_second": 10 | null, "burst": 20}`` — reconfigure;
- ``POST /_sandbox/oauth/approve`` ``{"user_code": "BCDF-GHJK", "email": …}`` — approve a pending
  OAuth device login, as the person would in the browser;
- ``GET|POST /_sandbox/fidelity`` ``{"model_busy": false, …}`` — read or change the strictness
  switches (`alm_bot.sandbox.fidelity`), key by key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alm_bot.sandbox import seed
from alm_bot.sandbox.errors import ControlError
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.sandbox.sandbox import Sandbox
from alm_bot.sandbox.structural import change_from_body
from alm_bot.sandbox.urls import app_base

__all__ = ["control_routes"]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError(400, "The body must be a JSON object.") from None
    if not isinstance(body, dict):
        raise ControlError(400, "The body must be a JSON object.")
    return body


def _number(body: dict[str, Any], key: str, *, required: bool = False) -> float | None:
    value = body.get(key)
    if value is None:
        if required:
            raise ControlError(400, f"'{key}' is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f"'{key}' must be a number.")
    return float(value)


def _info(sandbox: Sandbox, request: Request) -> dict[str, Any]:
    base = app_base(request)
    world = sandbox.world
    return {
        "api_url": f"{base}/2/0",
        "auth_url": base,
        "users": [
            {"email": seed.ADMIN_USER, "password": seed.PASSWORD, "workspace_admin_in": ["FP&A"]},
            {"email": seed.VIEWER_USER, "password": seed.PASSWORD, "workspace_admin_in": []},
        ],
        "models": [
            {
                "id": m.id,
                "name": m.name,
                "workspace": world.workspaces[m.workspace_id].name,
                "active_state": m.active_state,
                "latest_revision_id": m.latest_revision_id,
                "pending_structural_changes": len(m.pending_changes),
            }
            for m in world.models.values()
            if not m.deleted
        ],
        "task_duration": sandbox.task_duration,
        "now": sandbox.now(),
    }


def control_routes(sandbox: Sandbox) -> list[Route]:
    async def info(request: Request) -> Response:
        sandbox.settle()
        return JSONResponse(_info(sandbox, request))

    async def reset(request: Request) -> Response:
        sandbox.reset()
        return JSONResponse({"reset": True})

    async def list_faults(request: Request) -> Response:
        return JSONResponse({"faults": sandbox.faults.describe()})

    async def add_fault(request: Request) -> Response:
        body = await _body(request)
        status = body.get("status")
        times = body.get("times", 1)
        if (status is not None and not isinstance(status, int)) or not isinstance(times, int):
            raise ControlError(400, "'status' and 'times' must be integers.")
        try:
            fault = sandbox.add_fault(
                str(body.get("method", "*")),
                str(body.get("path", "")),
                status=status,
                times=times,
                retry_after=_number(body, "retry_after"),
                delay=_number(body, "delay"),
            )
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return JSONResponse({"fault": fault.describe()}, status_code=201)

    async def clear_faults(request: Request) -> Response:
        sandbox.faults.clear()
        return Response(status_code=204)

    async def structural_change(request: Request) -> Response:
        model_id = request.path_params["modelId"]
        body = await _body(request)
        pending = sandbox.structural_change(model_id, change_from_body(body) if body else None)
        return JSONResponse({"model_id": model_id, "pending_structural_changes": pending})

    async def fail_next_sync(request: Request) -> Response:
        model_id = request.path_params["modelId"]
        sandbox.fail_next_sync(model_id)
        return JSONResponse({"model_id": model_id, "fail_next_sync": "oversized"})

    async def skip_next_sync(request: Request) -> Response:
        model_id = request.path_params["modelId"]
        sandbox.skip_next_sync(model_id)
        return JSONResponse({"model_id": model_id, "skip_next_sync": True})

    async def set_state(request: Request) -> Response:
        model_id = request.path_params["modelId"]
        state = (await _body(request)).get("active_state")
        sandbox.set_active_state(model_id, str(state))
        return JSONResponse({"model_id": model_id, "active_state": state})

    async def requests_log(request: Request) -> Response:
        entries = [
            {"method": e.method, "path": e.path, "status": e.status, "time": e.time}
            for e in sandbox.request_log
        ]
        return JSONResponse({"requests": entries})

    async def clear_requests(request: Request) -> Response:
        sandbox.request_log.clear()
        return Response(status_code=204)

    async def read_clock(request: Request) -> Response:
        return JSONResponse({"now": sandbox.now()})

    async def move_clock(request: Request) -> Response:
        seconds = _number(await _body(request), "advance", required=True)
        assert seconds is not None
        if seconds < 0:
            raise ControlError(400, "'advance' cannot be negative: sandbox time only moves forward.")
        sandbox.advance(seconds)
        return JSONResponse({"now": sandbox.now()})

    async def rate_limit(request: Request) -> Response:
        body = await _body(request)
        burst = body.get("burst", sandbox.rate_limiter.burst)
        if not isinstance(burst, int):
            raise ControlError(400, "'burst' must be an integer.")
        try:
            sandbox.set_rate_limit(_number(body, "per_second"), burst)
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return JSONResponse({"per_second": sandbox.rate_limiter.rate, "burst": sandbox.rate_limiter.burst})

    async def read_fidelity(request: Request) -> Response:
        return JSONResponse(asdict(sandbox.fidelity))

    async def change_fidelity(request: Request) -> Response:
        body = await _body(request)
        known = {f.name: f for f in fields(Fidelity)}
        for name, value in body.items():
            field = known.get(name)
            if field is None:
                raise ControlError(400, f"Unknown switch '{name}'. Known: {', '.join(known)}.")
            expected = type(getattr(sandbox.fidelity, name))
            if type(value) is not expected:
                raise ControlError(400, f"'{name}' must be a {expected.__name__}.")
        try:
            sandbox.fidelity = replace(sandbox.fidelity, **body)
            sandbox.fidelity.check()
        except ValueError as exc:
            raise ControlError(400, str(exc)) from None
        return JSONResponse(asdict(sandbox.fidelity))

    async def approve_device(request: Request) -> Response:
        body = await _body(request)
        user_code, email = body.get("user_code"), body.get("email", seed.ADMIN_USER)
        if not isinstance(user_code, str) or not isinstance(email, str):
            raise ControlError(400, "'user_code' (and 'email', if given) must be strings.")
        sandbox.approve_device_login(user_code, email)
        return JSONResponse({"approved": user_code, "email": email})

    models = "/_sandbox/models/{modelId}"
    return [
        Route("/_sandbox", info, methods=["GET"]),
        Route("/_sandbox/reset", reset, methods=["POST"]),
        Route("/_sandbox/faults", list_faults, methods=["GET"]),
        Route("/_sandbox/faults", add_fault, methods=["POST"]),
        Route("/_sandbox/faults", clear_faults, methods=["DELETE"]),
        Route(f"{models}/structural-change", structural_change, methods=["POST"]),
        Route(f"{models}/fail-next-sync", fail_next_sync, methods=["POST"]),
        Route(f"{models}/skip-next-sync", skip_next_sync, methods=["POST"]),
        Route(f"{models}/state", set_state, methods=["POST"]),
        Route("/_sandbox/requests", requests_log, methods=["GET"]),
        Route("/_sandbox/requests", clear_requests, methods=["DELETE"]),
        Route("/_sandbox/clock", read_clock, methods=["GET"]),
        Route("/_sandbox/clock", move_clock, methods=["POST"]),
        Route("/_sandbox/rate-limit", rate_limit, methods=["POST"]),
        Route("/_sandbox/oauth/approve", approve_device, methods=["POST"]),
        Route("/_sandbox/fidelity", read_fidelity, methods=["GET"]),
        Route("/_sandbox/fidelity", change_fidelity, methods=["POST"]),
    ]
