"""The MCP tools: one thin function per ALM operation, grouped by what they are about.

Each tool parses its arguments (the schema does most of it), calls one `Operations` method with
the caller's `Actor`, and renders the result into an output model. No rule lives here.
"""

from __future__ import annotations

from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.tools.comparisons import comparison_tools
from alm_bot.mcp.tools.models import model_tools
from alm_bot.mcp.tools.releases import release_tools
from alm_bot.mcp.tools.requests import request_tools
from alm_bot.mcp.tools.sync import sync_tools
from alm_bot.mcp.tools.windows import window_tools
from alm_bot.mcp.toolspec import ToolSpec

__all__ = ["all_tools"]


def all_tools(deps: ToolDeps) -> list[ToolSpec]:
    """Every tool alm-bot offers, in the order clients list them."""
    return [
        *model_tools(deps),
        *sync_tools(deps),
        *comparison_tools(deps),
        *request_tools(deps),
        *release_tools(deps),
        *window_tools(deps),
    ]
