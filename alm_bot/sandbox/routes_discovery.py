"""Model discovery (Integration API v2, reference §3): workspaces and models under ``/2/0``.

A user sees the workspaces they are a member of and the models in them (never deleted ones).
``tenantDetails=true`` adds workspace sizes; ``modelDetails=true`` adds the model details, and on
the single-model GET also ``modelTransactionRunning`` (true while a sync into the model runs).
``GET /models/{id}/status`` answers ``requestStatus`` (busy or idle).
Lists page with ``limit``/``offset`` and sort with ``sort=±field``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alm_bot.sandbox.alm import running_sync
from alm_bot.sandbox.envelopes import success
from alm_bot.sandbox.errors import ApiError
from alm_bot.sandbox.formats import epoch_ms
from alm_bot.sandbox.inputs import flag, page, sort_order
from alm_bot.sandbox.paging import paginate
from alm_bot.sandbox.sandbox import Sandbox
from alm_bot.sandbox.state import Model, User, Workspace, World
from alm_bot.sandbox.urls import api_base, model_url
from alm_bot.sandbox.views import model_json, workspace_json

__all__ = ["discovery_routes"]

_WORKSPACE_SORTS: dict[str, Callable[[Workspace], Any]] = {
    "name": lambda w: w.name.lower(),
    "sizeAllowance": lambda w: w.size_allowance,
    "id": lambda w: w.id,
}
_MODEL_SORTS: dict[str, Callable[[Model], Any]] = {
    "name": lambda m: m.name.lower(),
    "activeState": lambda m: m.active_state,
    "id": lambda m: m.id,
}


def _visible_workspaces(world: World, user: User) -> list[Workspace]:
    return [w for w in world.workspaces.values() if world.can_see(user, w)]


def _visible_models(world: World, user: User, workspace_id: str | None = None) -> list[Model]:
    seen = {w.id for w in _visible_workspaces(world, user)}
    return [
        m
        for m in world.models.values()
        if not m.deleted and m.workspace_id in seen and workspace_id in (None, m.workspace_id)
    ]


def _sorted(items: list[Any], request: Request, keys: dict[str, Callable[[Any], Any]]) -> list[Any]:
    order = sort_order(request.query_params, tuple(keys))
    if order is None:
        return items
    field, descending = order
    return sorted(items, key=keys[field], reverse=descending)


def _model_status(world: World, model: Model) -> dict[str, Any]:
    """``requestStatus`` of ``GET /models/{id}/status`` (reference §3): idle is step "Open" with
    progress -1.0; during a sync it names the sync task. The busy wording is the sandbox's own."""
    task = running_sync(world, model.id)
    if task is None:
        return {"currentStep": "Open", "progress": -1.0, "tooltip": ""}
    return {
        "currentStep": "Synchronizing model",
        "progress": -1.0,
        "creationTime": epoch_ms(task.created_at),
        "taskId": task.id,
        "tooltip": "A model synchronization is running.",
    }


def discovery_routes(sandbox: Sandbox) -> list[Route]:
    def workspace(user: User, workspace_id: str) -> Workspace:
        found = sandbox.world.workspaces.get(workspace_id)
        if found is None or not sandbox.world.can_see(user, found):
            raise ApiError(404, f"Workspace '{workspace_id}' was not found.")
        return found

    def models_response(request: Request, models: list[Model]) -> Response:
        world, api = sandbox.world, api_base(request)
        details = flag(request.query_params, "modelDetails")
        ordered = _sorted(models, request, _MODEL_SORTS)
        chunk, paging = paginate(
            ordered,
            page(request.query_params, sandbox.fidelity.max_page_size),
            request,
            links=sandbox.fidelity.paging_links,
        )
        items = [model_json(world, m, model_url(request, m.workspace_id, m.id), details) for m in chunk]
        return success(api, "model", {"models": items}, paging=paging)

    async def list_workspaces(request: Request) -> Response:
        user, _ = sandbox.begin_api_call(request.headers.get("authorization", ""))
        world = sandbox.world
        details = flag(request.query_params, "tenantDetails")
        ordered = _sorted(_visible_workspaces(world, user), request, _WORKSPACE_SORTS)
        chunk, paging = paginate(
            ordered,
            page(request.query_params, sandbox.fidelity.max_page_size),
            request,
            links=sandbox.fidelity.paging_links,
        )
        items = [workspace_json(world, w, details) for w in chunk]
        return success(api_base(request), "workspace", {"workspaces": items}, paging=paging)

    async def get_workspace(request: Request) -> Response:
        user, _ = sandbox.begin_api_call(request.headers.get("authorization", ""))
        found = workspace(user, request.path_params["workspaceId"])
        body = workspace_json(sandbox.world, found, flag(request.query_params, "tenantDetails"))
        return success(api_base(request), "workspace", {"workspace": body})

    async def list_workspace_models(request: Request) -> Response:
        user, _ = sandbox.begin_api_call(request.headers.get("authorization", ""))
        found = workspace(user, request.path_params["workspaceId"])
        return models_response(request, _visible_models(sandbox.world, user, found.id))

    async def list_models(request: Request) -> Response:
        user, _ = sandbox.begin_api_call(request.headers.get("authorization", ""))
        return models_response(request, _visible_models(sandbox.world, user))

    def visible_model(request: Request) -> Model:
        user, _ = sandbox.begin_api_call(request.headers.get("authorization", ""))
        model_id = request.path_params["modelId"]
        model = next((m for m in _visible_models(sandbox.world, user) if m.id == model_id), None)
        if model is None:
            raise ApiError(404, f"Model '{model_id}' was not found.")
        return model

    async def get_model(request: Request) -> Response:
        world, model = sandbox.world, visible_model(request)
        details = flag(request.query_params, "modelDetails")
        running = (running_sync(world, model.id) is not None) if details else None
        body = model_json(world, model, model_url(request, model.workspace_id, model.id), details, running)
        return success(api_base(request), "model", {"model": body})

    async def model_status(request: Request) -> Response:
        status = _model_status(sandbox.world, visible_model(request))
        return success(api_base(request), "modelStatus", {"requestStatus": status})

    return [
        Route("/2/0/workspaces", list_workspaces, methods=["GET"]),
        Route("/2/0/workspaces/{workspaceId}", get_workspace, methods=["GET"]),
        Route("/2/0/workspaces/{workspaceId}/models", list_workspace_models, methods=["GET"]),
        Route("/2/0/models", list_models, methods=["GET"]),
        Route("/2/0/models/{modelId}", get_model, methods=["GET"]),
        Route("/2/0/models/{modelId}/status", model_status, methods=["GET"]),
    ]
