"""MCP over streamable HTTP: an ASGI app that `alm-bot serve` mounts at ``/mcp``, or that runs alone.

`mcp_http_app` returns a Starlette app with the route ``path`` (default ``/mcp``), whose endpoint
applies the access policy (`alm_bot.mcp.auth`: OAuth, static tokens, or loopback only) and then
hands the request to the SDK's stateful streamable-HTTP transport (stateful so that progress
notifications reach the client); in OAuth mode also the Protected Resource Metadata route.

Standalone (uvicorn, tests): the app's lifespan runs the MCP session manager. Mounted in a host
app, Starlette does not run a sub-app's lifespan, so the host must run it itself::

    mcp_app = mcp_http_app(services, settings, host=host)
    app = Starlette(routes=[*mcp_app.routes, ...], lifespan=host_lifespan)
    # in host_lifespan:  async with mcp_app.state.session_manager.run(): yield

Take the routes (not ``Mount("/mcp", mcp_app)``): a mount strips the path the route matches on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.routing import Route

from alm_bot.mcp.auth import HttpAccess, check_http_exposure, is_loopback
from alm_bot.mcp.deps import LOCAL_ACTOR
from alm_bot.mcp.server import build_mcp_server

if TYPE_CHECKING:
    from alm_bot.config import Settings
    from alm_bot.operations import Operations
    from alm_bot.services import Services

__all__ = ["mcp_http_app"]

# The SDK's DNS-rebinding defaults for a loopback bind (mcp/server/lowlevel/server.py).
_SDK_LOOPBACK: Final = ("127.0.0.1", "localhost", "::1")
_LOOPBACK_HOSTS: Final = ("127.0.0.1:*", "localhost:*", "[::1]:*")
_LOOPBACK_ORIGINS: Final = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


def mcp_http_app(
    services_or_ops: Services | Operations,
    settings: Settings,
    *,
    read_only: bool = False,
    host: str = "127.0.0.1",
    port: int | None = None,
    path: str = "/mcp",
) -> Starlette:
    """The MCP endpoint as an ASGI app.

    ``read_only`` (or the settings' ``mcp.read_only``) leaves out every tool that changes anything.
    ``host`` is the address the server binds: without auth it must be loopback (`ConfigError`
    otherwise), and on loopback the SDK's DNS-rebinding protection is on (clients must send a
    ``Host`` header with the port, as every HTTP client does). ``host`` and ``port`` (when known,
    not 0) on a loopback bind give the OAuth audience's default, ``http://host:port/mcp``.
    ``app.state.session_manager`` is the session manager, ``app.state.mcp_server`` the server.
    """
    check_http_exposure(host, settings)
    ops = _operations(services_or_ops)
    default_actor = settings.mcp_actor or LOCAL_ACTOR
    server = build_mcp_server(ops, read_only=read_only or settings.mcp.read_only, default_actor=default_actor)
    access = HttpAccess.from_settings(settings, local_url=_local_url(host, port, path))
    # Builds the session manager with the SDK's transport-security defaults for this host.
    security = _transport_security(host, access.resource_url)
    server.streamable_http_app(streamable_http_path=path, host=host, transport_security=security)
    session_manager = server.session_manager
    endpoint = access.protect(StreamableHTTPASGIApp(session_manager))
    app = Starlette(
        routes=[Route(path, endpoint=endpoint), *access.routes()],
        lifespan=lambda _app: session_manager.run(),
    )
    app.state.session_manager = session_manager
    app.state.mcp_server = server
    return app


def _transport_security(host: str, resource_url: str | None) -> TransportSecuritySettings | None:
    """The SDK's loopback Host/Origin checks, also letting in this server's public OAuth URL.

    On a loopback bind behind a reverse proxy that keeps the ``Host`` header (OAuth clients use the
    public URL), the SDK's defaults would answer every request 421. None: the SDK's defaults.
    """
    if host not in _SDK_LOOPBACK or resource_url is None:
        return None
    public = urlsplit(resource_url)
    return TransportSecuritySettings(
        allowed_hosts=[*_LOOPBACK_HOSTS, public.netloc],
        allowed_origins=[*_LOOPBACK_ORIGINS, f"{public.scheme}://{public.netloc}"],
    )


def _local_url(host: str, port: int | None, path: str) -> str | None:
    if not port or not is_loopback(host):
        return None
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"


def _operations(source: Services | Operations) -> Operations:
    from alm_bot.services import Services

    return source.ops if isinstance(source, Services) else source
