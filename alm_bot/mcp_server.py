"""The MCP server of alm-bot (DESIGN.md's ``mcp_server.py``); the code lives in `alm_bot.mcp`."""

from __future__ import annotations

from alm_bot.mcp.server import build_mcp_server

__all__ = ["build_mcp_server"]
