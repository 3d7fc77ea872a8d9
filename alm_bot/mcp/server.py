"""Builds the alm-bot MCP server: every ALM operation as an annotated tool, plus resources and a prompt.

The same server object serves every transport: in memory (tests), stdio (`alm_bot.mcp.stdio`) and
streamable HTTP (`alm_bot.mcp.http`). Read-only mode keeps only the tools annotated read-only, and
its instructions and prompts mention nothing else. The listed schemas are the short ones of
`alm_bot.mcp.compact`.

Note: constructing an ``MCPServer`` calls ``logging.basicConfig`` on the root logger (a no-op when
logging is already configured); front ends configure logging themselves, before or after.
"""

from __future__ import annotations

from typing import Final

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.tools import Tool

from alm_bot.actor import Actor
from alm_bot.mcp.compact import compact_input_schema, compact_output_schema
from alm_bot.mcp.deps import LOCAL_ACTOR, OpsSource, ToolDeps, ops_provider
from alm_bot.mcp.prompts import register_prompts
from alm_bot.mcp.resources import register_resources
from alm_bot.mcp.scopes import ScopeGate
from alm_bot.mcp.tools import all_tools
from alm_bot.mcp.toolspec import ToolSpec

__all__ = ["INSTRUCTIONS", "READ_ONLY_INSTRUCTIONS", "SERVER_NAME", "build_mcp_server"]

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

READ_ONLY_INSTRUCTIONS: Final = (
    "alm-bot shows Anaplan Application Lifecycle Management (ALM): models, revisions, which revisions "
    "a model can take, sync tasks, comparison results, and alm-bot's change requests and their "
    "approvals. Name models by configured alias (e.g. dev, test, prod), 32-character id, or exact "
    "name; alm_list_models lists them. This server is read-only: it offers no tool that changes "
    "anything or asks for a change, so tell the user that syncs and online/offline changes are "
    "requested elsewhere (in Slack) and follow them here with alm_get_request and alm_list_requests."
)


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
    specs = [spec for spec in all_tools(deps) if not (read_only and spec.changes_anything)]
    server: MCPServer = MCPServer(
        SERVER_NAME,
        title="alm-bot: Anaplan ALM",
        instructions=READ_ONLY_INSTRUCTIONS if read_only else INSTRUCTIONS,
        version=_version(),
        tools=[_listed_tool(spec) for spec in specs],
    )
    server.middleware.append(ScopeGate(frozenset(s.name for s in specs if s.changes_anything)))
    register_resources(server, deps, specs)
    if not read_only:
        register_prompts(server)  # the release walkthrough is all about changing things
    return server


def _listed_tool(spec: ToolSpec) -> Tool:
    """The SDK's tool for a spec, with the short schemas ``tools/list`` carries."""
    tool = Tool.from_function(
        spec.fn,
        name=spec.name,
        title=spec.title,
        description=spec.description,
        annotations=spec.annotations,
        structured_output=True,
    )
    metadata = tool.fn_metadata
    output = metadata.output_schema
    return tool.model_copy(
        update={
            "parameters": compact_input_schema(tool.parameters),
            "fn_metadata": metadata.model_copy(
                update={"output_schema": compact_output_schema(output) if output else None}
            ),
        }
    )


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("alm-bot")
    except PackageNotFoundError:
        return ""
