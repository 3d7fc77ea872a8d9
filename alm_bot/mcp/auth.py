"""Who is calling over HTTP, and who may call at all: the three ways ``/mcp`` is protected.

1. **OAuth 2.1** (``ALM_BOT_MCP_OAUTH_ISSUER``): alm-bot is a resource server. JWT access tokens
   from the issuer are checked by `alm_bot.mcp.oauth.JwtVerifier`; the Protected Resource Metadata
   (RFC 9728) is served at ``/.well-known/oauth-protected-resource/mcp``, and a refused request's
   ``401`` carries ``WWW-Authenticate: Bearer … resource_metadata="…"`` pointing at it.
2. **Static bearer tokens** (``ALM_BOT_MCP_TOKENS``, each ≥ 32 characters), compared in constant
   time; each acts as its configured actor with both scopes. They may be combined with OAuth.
3. **No auth**, allowed only on a loopback bind (`check_http_exposure`): every request acts as
   ``ALM_BOT_MCP_ACTOR`` (or "mcp-local"). A request from another address, or carrying any
   forwarding header (``Forwarded``, ``X-Forwarded-*``, ``X-Real-IP``, ``Via``) is refused with 403:
   a proxy in front would make every remote caller look local. This is a safety net, not a
   guarantee — a proxy that adds none of those headers is invisible, which is why the README says a
   loopback bind without auth must never sit behind a proxy.

Modes 1 and 2 use the mcp SDK's own middleware (``BearerAuthBackend``, ``RequireAuthMiddleware``,
the auth context that `alm_bot.mcp.scopes.ScopeGate` reads); `HttpAccess.protect` assembles them
and sets `current_actor` from the accepted token for the tools.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend, RequireAuthMiddleware
from mcp.server.auth.provider import AccessToken, TokenVerifier
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter
from starlette.datastructures import Headers
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from alm_bot.actor import Actor
from alm_bot.errors import ConfigError
from alm_bot.mcp.deps import LOCAL_ACTOR, current_actor
from alm_bot.mcp.issuer_keys import IssuerKeys
from alm_bot.mcp.oauth import CallerToken, JwtVerifier
from alm_bot.mcp.scopes import ALL_SCOPES, READ_SCOPE

if TYPE_CHECKING:
    from alm_bot.config import Settings

__all__ = ["HttpAccess", "StaticTokens", "check_http_exposure", "forwarding_header", "is_loopback"]

log = logging.getLogger("alm_bot.mcp.auth")

_FORWARDING: Final = ("forwarded", "x-real-ip", "via")
_URL: Final = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))
"""URLs as configured: RFC 8414/9728 compare issuers exactly, so no trailing slash may be added."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost; False for 0.0.0.0, names and anything else."""
    name = host.strip().strip("[]")
    if name.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def forwarding_header(headers: Headers) -> str | None:
    """The first header saying the request came through a proxy, or None."""
    return next((k for k in headers if k in _FORWARDING or k.startswith("x-forwarded-")), None)


def has_auth(settings: Settings) -> bool:
    return bool(settings.mcp_tokens) or settings.mcp_oauth_issuer is not None


def check_http_exposure(host: str, settings: Settings) -> str:
    """Refuse to serve MCP over HTTP on a non-loopback bind without auth; else a one-line notice.

    Raises `ConfigError` when ``host`` is not loopback and neither tokens nor OAuth are configured.
    """
    if settings.mcp_oauth_issuer is not None:
        return f"MCP over HTTP on {host}: OAuth access tokens from {settings.mcp_oauth_issuer}."
    if settings.mcp_tokens:
        return (
            f"MCP over HTTP on {host}: {len(settings.mcp_tokens)} bearer token(s) configured; "
            "each request acts as its token's identity."
        )
    if is_loopback(host):
        actor = settings.mcp_actor or LOCAL_ACTOR
        return (
            f"MCP over HTTP on loopback {host} without auth: every request acts as {actor.label}. "
            "Set ALM_BOT_MCP_OAUTH_ISSUER or ALM_BOT_MCP_TOKENS before binding to another address, "
            "and never put a proxy in front of it."
        )
    raise ConfigError(
        [
            f"environment: ALM_BOT_MCP_TOKENS: is empty and ALM_BOT_MCP_OAUTH_ISSUER is unset, so MCP over "
            f"HTTP may only listen on a loopback address, not {host}: configure OAuth or tokens "
            "(token=U123:Ada Lovelace,…), or bind to 127.0.0.1"
        ]
    )


class StaticTokens:
    """``ALM_BOT_MCP_TOKENS`` as an mcp ``TokenVerifier``; tried before OAuth when both are set."""

    def __init__(self, settings: Settings, then: TokenVerifier | None = None) -> None:
        self._settings = settings
        self._then = then

    async def verify_token(self, token: str) -> AccessToken | None:
        actor = self._settings.mcp_actor_for_token(token) if self._settings.mcp_tokens else None
        if actor is not None:
            return CallerToken(
                token=token, client_id=actor.id, scopes=list(ALL_SCOPES), subject=actor.id, actor=actor
            )
        return await self._then.verify_token(token) if self._then is not None else None


@dataclass(frozen=True)
class HttpAccess:
    """How ``/mcp`` is protected, from the settings: the endpoint wrapper and the well-known route."""

    verifier: TokenVerifier | None
    resource_url: str | None
    """This server's /mcp URL as OAuth clients know it (the tokens' audience); OAuth mode only."""
    issuer: str | None
    open_actor: Actor

    @classmethod
    def from_settings(cls, settings: Settings, *, local_url: str | None) -> HttpAccess:
        """``local_url`` is the bind's own /mcp URL, the audience's default on a loopback bind."""
        open_actor = settings.mcp_actor or LOCAL_ACTOR
        issuer = settings.mcp_oauth_issuer
        if issuer is None:
            verifier = StaticTokens(settings) if settings.mcp_tokens else None
            return cls(verifier, None, None, open_actor)
        audience = settings.mcp_oauth_audience or local_url
        if audience is None:
            raise ConfigError(
                [
                    "environment: ALM_BOT_MCP_OAUTH_AUDIENCE: must be set to the public URL of /mcp "
                    "(e.g. https://alm-bot.example.com/mcp) when the bind is not a fixed loopback address"
                ]
            )
        keys = IssuerKeys(issuer, jwks_url=settings.mcp_oauth_jwks_url)
        jwt_verifier = JwtVerifier(keys, audience=audience, identity_claim=settings.mcp_oauth_identity_claim)
        return cls(StaticTokens(settings, then=jwt_verifier), audience, issuer, open_actor)

    def protect(self, app: ASGIApp) -> ASGIApp:
        """``app`` behind this access policy."""
        if self.verifier is None:
            return LoopbackOnly(app, self.open_actor)
        resource = _URL.validate_python(self.resource_url) if self.resource_url else None
        metadata = build_resource_metadata_url(resource) if resource else None
        required = RequireAuthMiddleware(ActAsTokenOwner(app), [READ_SCOPE], metadata)
        backend = BearerAuthBackend(self.verifier)
        return AuthenticationMiddleware(AuthContextMiddleware(required), backend=backend)

    def routes(self) -> list[Route]:
        """The Protected Resource Metadata route (RFC 9728), in OAuth mode."""
        if self.resource_url is None or self.issuer is None:
            return []
        return create_protected_resource_routes(
            resource_url=_URL.validate_python(self.resource_url),
            authorization_servers=[_URL.validate_python(self.issuer)],
            scopes_supported=list(ALL_SCOPES),
            resource_name="alm-bot: Anaplan ALM",
        )


class ActAsTokenOwner:
    """ASGI middleware after authentication: the accepted token's actor acts while it is served."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        user = scope.get("user")
        token = user.access_token if isinstance(user, AuthenticatedUser) else None
        if not isinstance(token, CallerToken):
            await self.app(scope, receive, send)
            return
        await _serve_as(token.actor, self.app, scope, receive, send)


class LoopbackOnly:
    """ASGI middleware without auth: serve only direct loopback clients, as the configured actor."""

    def __init__(self, app: ASGIApp, actor: Actor) -> None:
        self.app = app
        self.actor = actor

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            log.warning("refused an MCP request: %s", refusal)
            await _forbidden(refusal)(scope, receive, send)
            return
        await _serve_as(self.actor, self.app, scope, receive, send)

    @staticmethod
    def _refusal(scope: Scope) -> str | None:
        # The header first: uvicorn rewrites the client address from X-Forwarded-For of a local proxy.
        header = forwarding_header(Headers(scope=scope))
        if header is not None:
            return (
                f"it carries the proxy header {header}; without auth alm-bot serves only direct "
                "loopback clients (configure ALM_BOT_MCP_OAUTH_ISSUER or ALM_BOT_MCP_TOKENS behind a proxy)"
            )
        client = scope.get("client")
        if client is not None and not is_loopback(str(client[0])):
            return f"it comes from {client[0]}, and without auth only loopback clients are served"
        return None


async def _serve_as(actor: Actor, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve the request with ``actor`` as `current_actor` (the SDK carries it into the tool call)."""
    reset = current_actor.set(actor)
    try:
        await app(scope, receive, send)
    finally:
        current_actor.reset(reset)


def _forbidden(description: str) -> JSONResponse:
    return JSONResponse({"error": "forbidden", "error_description": description}, status_code=403)
