"""MCP resources: the model registry and recent change requests, as JSON an assistant can read.

``alm://models``            configured aliases and protection, approvers, and the models Anaplan lists
``alm://requests``          the 50 most recent change requests
``alm://requests/{id}``     one change request
``alm://requests/{id}/notes`` its release notes, Markdown (`alm_bot.evidence.notes`)
``alm://models/{model}/policy`` the approval rules for changes into a model (`alm_bot.approval_policy`)
``alm://schemas``           each offered tool's full output schema, with every field described
                            (``tools/list`` carries short ones, see `alm_bot.mcp.compact`)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.tools import Tool

from alm_bot.approval_policy import explained_data
from alm_bot.errors import AlmBotError
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.render import model_out, request_out
from alm_bot.mcp.schemas import AliasOut, Registry, RequestList
from alm_bot.mcp.toolspec import ToolSpec

if TYPE_CHECKING:
    from alm_bot.operations import Operations

__all__ = ["RECENT_REQUESTS", "register_resources"]

RECENT_REQUESTS: Final = 50
_JSON: Final = "application/json"


def register_resources(server: MCPServer, deps: ToolDeps, specs: Sequence[ToolSpec]) -> None:
    @server.resource(
        "alm://models",
        name="models",
        title="Model registry",
        description="Configured aliases and protection, the approvers, and the models Anaplan lists.",
        mime_type=_JSON,
    )
    async def models() -> str:
        ops = await _ops(deps)
        aliases = [
            AliasOut(alias=a, id=m.id, protected=m.protected) for a, m in sorted(ops.settings.models.items())
        ]
        try:
            listed, error = [model_out(m) for m in await ops.list_models()], None
        except AlmBotError as exc:
            listed, error = [], str(exc)
        registry = Registry(
            aliases=aliases, approvers=ops.execution.approvers, models=listed, models_error=error
        )
        return registry.model_dump_json(indent=2)

    @server.resource(
        "alm://requests",
        name="requests",
        title="Recent change requests",
        description=f"The {RECENT_REQUESTS} most recent sync and online/offline requests, newest first.",
        mime_type=_JSON,
    )
    async def requests() -> str:
        ops = await _ops(deps)
        try:
            recent = await ops.list_requests(limit=RECENT_REQUESTS)
        except AlmBotError as exc:
            raise ResourceError(str(exc)) from exc
        return RequestList(requests=[request_out(r) for r in recent]).model_dump_json(indent=2)

    @server.resource(
        "alm://requests/{request_id}",
        name="request",
        title="One change request",
        description="A sync or online/offline request by id (like R7K3QX2) and where it stands.",
        mime_type=_JSON,
    )
    async def request(request_id: str) -> str:
        ops = await _ops(deps)
        try:
            found = await ops.get_request(request_id)
            progress = await ops.approvals.progress(found) if found.plan.protected else None
        except AlmBotError as exc:
            raise ResourceError(str(exc)) from exc
        return request_out(found, progress).model_dump_json(indent=2)

    @server.resource(
        "alm://requests/{request_id}/notes",
        name="request_notes",
        title="Release notes of a change request",
        description="Markdown release notes: revision, changes, radar, people, Anaplan tasks, verification.",
        mime_type="text/markdown",
    )
    async def request_notes(request_id: str) -> str:
        ops = await _ops(deps)
        try:
            return await ops.release_notes(request_id)
        except AlmBotError as exc:
            raise ResourceError(str(exc)) from exc

    @server.resource(
        "alm://models/{model}/policy",
        name="model_policy",
        title="Approval policy of a model",
        description="Who must approve changes into a model (alias, id or name): approvals, stages, "
        "reminder, escalation, expiry; whether it is protected now.",
        mime_type=_JSON,
    )
    async def model_policy(model: str) -> str:
        ops = await _ops(deps)
        try:
            explained = await ops.explain_policy(model)
        except AlmBotError as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps(explained_data(explained), indent=2)

    @server.resource(
        "alm://schemas",
        name="schemas",
        title="Tool result schemas",
        description="Each tool's full output schema, every field described (tools/list lists short ones).",
        mime_type=_JSON,
    )
    async def schemas() -> str:
        # Built when read, not at start-up: generating 19 full schemas costs start-up time.
        full = {s.name: Tool.from_function(s.fn, structured_output=True).output_schema for s in specs}
        return json.dumps(full, indent=2)


async def _ops(deps: ToolDeps) -> Operations:
    try:
        return await deps.ops()
    except AlmBotError as exc:
        raise ResourceError(str(exc)) from exc
