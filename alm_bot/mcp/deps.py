"""What every MCP tool needs: the shared `Operations` and the `Actor` calling it.

The operations come from a provider, so that a stdio server can answer ``tools/list`` before the
database and the Anaplan client are opened (they are opened on the first call that needs them).

The actor is per request. Over HTTP, the bearer-token middleware (`alm_bot.mcp.auth`) sets
`current_actor` for the request; the SDK carries that context into the tool call. Over stdio
nothing sets it and the server's default actor (``ALM_BOT_MCP_ACTOR``) acts.
"""

from __future__ import annotations

import contextvars
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Final, TypeAlias

from alm_bot.actor import Actor

if TYPE_CHECKING:
    from alm_bot.operations import Operations

__all__ = ["LOCAL_ACTOR", "OpsProvider", "OpsSource", "ToolDeps", "current_actor", "ops_provider"]

LOCAL_ACTOR: Final = Actor(id="mcp-local", name="mcp-local", origin="mcp")
"""Who acts when no identity is configured (stdio without ALM_BOT_MCP_ACTOR, loopback HTTP without tokens)."""

current_actor: contextvars.ContextVar[Actor | None] = contextvars.ContextVar(
    "alm_bot_mcp_actor", default=None
)

OpsProvider: TypeAlias = "Callable[[], Awaitable[Operations]]"
OpsSource: TypeAlias = "Operations | Callable[[], Awaitable[Operations]]"


def ops_provider(source: OpsSource) -> OpsProvider:
    """An `Operations` instance, or an async function returning one, as an async function."""
    if callable(source):
        return source

    async def fixed() -> Operations:
        return source

    return fixed


@dataclass(frozen=True)
class ToolDeps:
    """Handed to every tool module when the server is built."""

    get_ops: OpsProvider
    default_actor: Actor = LOCAL_ACTOR

    async def ops(self) -> Operations:
        return await self.get_ops()

    def actor(self) -> Actor:
        """The caller: the token's actor over HTTP, else the server's default; always origin "mcp"."""
        actor = current_actor.get() or self.default_actor
        # The core records the origin, and refuses decisions from "mcp": never let it be anything else.
        return actor if actor.origin == "mcp" else replace(actor, origin="mcp")
