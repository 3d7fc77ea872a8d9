"""Helpers to call tools through an MCP client and look at what came back."""

from __future__ import annotations

from typing import Any

from mcp import Client
from mcp.types import TextContent


async def ok(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> dict[str, Any]:
    """Call a tool that must succeed; its structured content."""
    result = await client.call_tool(tool, arguments or {})
    assert not result.is_error, error_text(result.content)
    assert result.structured_content is not None
    return result.structured_content


async def refused(client: Client, tool: str, arguments: dict[str, Any] | None = None) -> str:
    """Call a tool that must fail as a tool error (isError, not a protocol error); its message."""
    result = await client.call_tool(tool, arguments or {})
    assert result.is_error, result.structured_content
    return error_text(result.content)


def error_text(content: list[Any]) -> str:
    return " ".join(block.text for block in content if isinstance(block, TextContent))
