"""The MCP front end: alm-bot's ALM operations as tools for AI assistants.

Modules, one concept each:

- ``server``     `build_mcp_server` — registers tools, resources and the prompt on an ``MCPServer``
- ``tools/``     the tools, grouped: models & revisions, sync & status, comparisons, requests
- ``toolspec``   a tool's declaration and the annotation each kind of tool carries
- ``params``     parameter types with the descriptions an assistant reads
- ``schemas``    output models; ``render`` converts the core's objects into them
- ``compact``    the short input/output schemas ``tools/list`` carries
- ``outcomes``   the answer of a change tool, with a sentence saying what happens next
- ``boundary``   core errors → MCP tool errors
- ``waiting``    bounded waiting for an Anaplan task, with progress
- ``deps``       what tools need: the operations and the calling actor
- ``auth``       how /mcp is protected: OAuth, static bearer tokens, or loopback only
- ``oauth``      JWT access tokens from the OAuth issuer → actors (``issuer_keys``: its JWKS)
- ``scopes``     ``alm:read`` / ``alm:request``, and the gate on changing tools
- ``http``       the streamable-HTTP ASGI app (`mcp_http_app`) that `alm-bot serve` mounts at /mcp
- ``stdio``      `alm-bot mcp`: stdio transport, opening the services lazily

This package never imports the Slack front end, and the core never imports it.
"""

from __future__ import annotations

from alm_bot.mcp.server import build_mcp_server

__all__ = ["build_mcp_server"]
