"""Who is calling over HTTP: bearer tokens mapped to actors, and when HTTP may run without them.

``ALM_BOT_MCP_TOKENS`` maps tokens to actors (parsed by `alm_bot.config`, which compares a presented
token against every configured one in constant time). `BearerAuth` wraps the MCP endpoint: a
request without a known token gets a 401 JSON error with ``WWW-Authenticate: Bearer``; a known
token sets `current_actor` for the request, and the tools act as that actor (origin "mcp").

With no tokens configured, HTTP is allowed only on a loopback bind (`check_http_exposure`), every
request acts as ``ALM_BOT_MCP_ACTOR`` (or "mcp-local"), and requests from other addresses are
refused anyway, in case a proxy forwards them.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Final

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from alm_bot.actor import Actor
from alm_bot.errors import ConfigError
from alm_bot.mcp.deps import LOCAL_ACTOR, current_actor

if TYPE_CHECKING:
    from alm_bot.config import Settings

__all__ = ["BearerAuth", "check_http_exposure", "is_loopback"]

log = logging.getLogger("alm_bot.mcp.auth")

REALM: Final = "alm-bot"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; False for 0.0.0.0, names and anything else."""
    name = host.strip().strip("[]")
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_http_exposure(host: str, settings: Settings) -> str:
    """Refuse to serve MCP over HTTP on a non-loopback bind without tokens; else a one-line notice.

    Raises `ConfigError` when ``host`` is not loopback and ``ALM_BOT_MCP_TOKENS`` is empty.
    """
    if settings.mcp_tokens:
        return (
            f"MCP over HTTP on {host}: {len(settings.mcp_tokens)} bearer token(s) configured; "
            "each request acts as its token's identity."
        )
    if is_loopback(host):
        actor = settings.mcp_actor or LOCAL_ACTOR
        return (
            f"MCP over HTTP on loopback {host} without bearer tokens: every request acts as {actor.label}. "
            "Set ALM_BOT_MCP_TOKENS before binding to another address."
        )
    raise ConfigError(
        [
            f"environment: ALM_BOT_MCP_TOKENS: is empty, so MCP over HTTP may only listen on a loopback "
            f"address, not {host}: set tokens (token=U123:Ada Lovelace,…) or bind to 127.0.0.1"
        ]
    )


class BearerAuth:
    """ASGI middleware: authenticate the request and set `current_actor` while it is served."""

    def __init__(self, app: ASGIApp, settings: Settings, *, open_actor: Actor | None = None) -> None:
        self.app = app
        self.settings = settings
        self.open_actor = open_actor or settings.mcp_actor or LOCAL_ACTOR

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        token = _bearer_token(Headers(scope=scope))
        actor = self._actor_for(token, scope)
        if actor is None:
            refusal = (
                _unauthorized(presented=token is not None) if self.settings.mcp_tokens else _not_loopback()
            )
            await refusal(scope, receive, send)
            return
        reset = current_actor.set(actor)
        try:
            await self.app(scope, receive, send)
        finally:
            current_actor.reset(reset)

    def _actor_for(self, token: str | None, scope: Scope) -> Actor | None:
        if self.settings.mcp_tokens:
            return self.settings.mcp_actor_for_token(token) if token else None
        client = scope.get("client")
        if client is None or is_loopback(str(client[0])):
            return self.open_actor
        log.warning("refused an MCP request from %s: no bearer tokens are configured", client[0])
        return None


def _bearer_token(headers: Headers) -> str | None:
    scheme, _, token = headers.get("authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.casefold() == "bearer" and token else None


def _unauthorized(*, presented: bool) -> JSONResponse:
    challenge = f'Bearer realm="{REALM}"' + (', error="invalid_token"' if presented else "")
    description = (
        "The bearer token is not valid for this server."
        if presented
        else "This MCP server needs a bearer token: send the header Authorization: Bearer <token>."
    )
    return JSONResponse(
        {"error": "invalid_token" if presented else "unauthorized", "error_description": description},
        status_code=401,
        headers={"WWW-Authenticate": challenge},
    )


def _not_loopback() -> JSONResponse:
    return JSONResponse(
        {
            "error": "forbidden",
            "error_description": "No bearer tokens are configured here, so only loopback clients are served.",
        },
        status_code=403,
    )
