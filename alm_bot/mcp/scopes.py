"""OAuth scopes of the MCP endpoint, and the gate that refuses a changing tool without ``alm:request``.

``alm:read`` is needed to use ``/mcp`` at all (the SDK answers ``403 insufficient_scope`` without
it); ``alm:request`` is needed, in addition, for every tool that changes anything or asks for a
change (the tools not annotated read-only). A call to such a tool without it comes back as a tool
error naming the missing scope, so the assistant can tell its user what to ask for, while the
session stays usable for reads. Static bearer tokens carry both scopes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.types import CallToolResult, TextContent

__all__ = ["ALL_SCOPES", "READ_SCOPE", "REQUEST_SCOPE", "ScopeGate", "granted_scopes"]

READ_SCOPE: Final = "alm:read"
REQUEST_SCOPE: Final = "alm:request"
ALL_SCOPES: Final = (READ_SCOPE, REQUEST_SCOPE)


def granted_scopes(claims: Mapping[str, object]) -> list[str]:
    """A JWT's scopes: ``scope`` (space-separated, RFC 9068) or ``scp`` (a list or string, Entra/Okta)."""
    raw = claims.get("scope", claims.get("scp"))
    if isinstance(raw, str):
        return raw.split()
    if isinstance(raw, list):
        return [s for s in raw if isinstance(s, str)]
    return []


class ScopeGate:
    """MCP server middleware: a changing tool's call needs ``alm:request`` when the caller has a token."""

    def __init__(self, changing_tools: frozenset[str]) -> None:
        self._changing = changing_tools

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call" and ctx.params is not None:
            name = ctx.params.get("name")
            token = get_access_token()
            # No token: stdio, or loopback HTTP without auth — nothing was scoped, nothing to refuse.
            if name in self._changing and token is not None and REQUEST_SCOPE not in token.scopes:
                return CallToolResult(
                    content=[
                        TextContent(
                            type="text",
                            text=f"{name} changes Anaplan or asks for a change, so it needs the OAuth "
                            f"scope {REQUEST_SCOPE}; this access token grants only: "
                            f"{' '.join(token.scopes) or 'no scopes'}. Sign in again asking for "
                            f"{REQUEST_SCOPE}, or use the read-only tools.",
                        )
                    ],
                    is_error=True,
                )
        return await call_next(ctx)
