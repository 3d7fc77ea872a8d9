"""The MCP front end: alm-bot's ALM operations as tools for AI assistants.

Modules, one concept each:

- ``server``     `build_mcp_server` — registers tools, resources and the prompt on an ``MCPServer``
- ``tools/``     the tools, grouped: models & revisions, sync & status, comparisons, requests
- ``toolspec``   a tool's declaration and the annotation each kind of tool carries
- ``params``     parameter types with the descriptions an assistant reads
- ``schemas``    output models; ``render`` converts the core's objects into them
- ``outcomes``   the answer of a change tool, with a sentence saying what happens next
- ``boundary``   core errors → MCP tool errors
- ``waiting``    bounded waiting for an Anaplan task, with progress
- ``deps``       what tools need: the operations and the calling actor
- ``auth``       bearer tokens → actors for HTTP, and the exposure check
- ``http``       the streamable-HTTP ASGI app (`mcp_http_app`) that `alm-bot serve` mounts at /mcp
- ``stdio``      `alm-bot mcp`: stdio transport, opening the services lazily

This package never imports the Slack front end, and the core never imports it.
"""

from __future__ import annotations

from alm_bot.mcp.server import build_mcp_server

__all__ = ["build_mcp_server"]
