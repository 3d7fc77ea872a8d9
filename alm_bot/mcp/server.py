"""Builds the alm-bot MCP server: every ALM operation as an annotated tool, plus resources and a prompt.

The same server object serves every transport: in memory (tests), stdio (`alm_bot.mcp.stdio`) and
streamable HTTP (`alm_bot.mcp.http`). Read-only mode keeps only the tools annotated read-only.

Note: constructing an ``MCPServer`` calls ``logging.basicConfig`` on the root logger (a no-op when
logging is already configured); front ends configure logging themselves, before or after.
"""

from __future__ import annotations

from typing import Final

from mcp.server.mcpserver import MCPServer

from alm_bot.actor import Actor
from alm_bot.mcp.deps import LOCAL_ACTOR, OpsSource, ToolDeps, ops_provider
from alm_bot.mcp.prompts import register_prompts
from alm_bot.mcp.resources import register_resources
from alm_bot.mcp.scopes import ScopeGate
from alm_bot.mcp.tools import all_tools

__all__ = ["INSTRUCTIONS", "SERVER_NAME", "build_mcp_server"]

SERVER_NAME: Final = "alm-bot"

INSTRUCTIONS: Final = (
    "alm-bot runs Anaplan Application Lifecycle Management (ALM): revisions, comparisons, syncs of a "
    "source model's revision into a target model, and online/offline changes. Name models by configured "
    "alias (e.g. dev, test, prod), 32-character id, or exact name; alm_list_models lists them. "
    "Reads are safe. A sync into, or an online/offline change of, a protected model does NOT happen "
    "when you call the tool: it becomes a request (status awaiting_approval) that a second person must "
    "approve in Slack. There is no approve tool; tell the user the request id and who can approve, "
    "and follow it with alm_get_request. Before a sync, show the user what changes "
    "(alm_create_comparison_summary) and ask them to confirm."
)

_READ_ONLY_NOTE: Final = " This server is read-only: tools that change anything are not offered."


def build_mcp_server(
    ops: OpsSource,
    *,
    read_only: bool = False,
    default_actor: Actor | None = None,
) -> MCPServer:
    """The MCP server over the shared `Operations`.

    ``ops`` is the `Operations` instance or an async function returning it (opened on first use).
    ``default_actor`` acts when no per-request actor is set (stdio; loopback HTTP without tokens);
    over authenticated HTTP the token's actor acts (see `alm_bot.mcp.auth`).
    """
    deps = ToolDeps(ops_provider(ops), default_actor or LOCAL_ACTOR)
    server: MCPServer = MCPServer(
        SERVER_NAME,
        title="alm-bot: Anaplan ALM",
        instructions=INSTRUCTIONS + (_READ_ONLY_NOTE if read_only else ""),
        version=_version(),
    )
    specs = [s for s in all_tools(deps) if not (read_only and s.changes_anything)]
    server.middleware.append(ScopeGate(frozenset(s.name for s in specs if s.changes_anything)))
    for spec in specs:
        server.add_tool(
            spec.fn,
            name=spec.name,
            title=spec.title,
            description=spec.description,
            annotations=spec.annotations,
            structured_output=True,
        )
    register_resources(server, deps)
    register_prompts(server)
    return server


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alm-bot")
    except PackageNotFoundError:
        return ""
