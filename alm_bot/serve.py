"""`alm-bot serve`: the whole product in one process on one port.

One Starlette app under uvicorn serves ``POST /slack/events`` (Slack HTTP mode), ``/mcp`` (MCP
streamable HTTP), ``GET /healthz`` and, with ``--sandbox``, the Anaplan emulator under ``/sandbox``.
Its lifespan runs the watcher, the MCP session manager and, with ``SLACK_APP_TOKEN``, the Socket
Mode connection. On SIGTERM uvicorn stops accepting, lets in-flight requests finish, then the
lifespan ends: the watcher stops and releases its leases, and the process exits 0.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alm_bot.config import Settings
from alm_bot.errors import AlmBotError
from alm_bot.logs import new_request_id
from alm_bot.notify import Notice
from alm_bot.services import Services, open_services

__all__ = ["ServeOptions", "build_app", "run_serve", "serve", "settle_heap"]

log = logging.getLogger("alm_bot.serve")

_ANAPLAN_CHECK_SECONDS = 60.0
_WATCHER_STALE_SECONDS = 30.0


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    sandbox: bool = False


class SlackOff:
    """The notifier while Slack is not configured: notices stay in the outbox until it is."""

    async def deliver(self, notice: Notice) -> None:
        raise RuntimeError("Slack is not configured (SLACK_BOT_TOKEN); the notice waits in the outbox")


def slack_mode(settings: Settings) -> str:
    """``socket``, ``http`` or ``off``, from which Slack secrets are set."""
    if settings.slack_bot_token is None:
        return "off"
    if settings.slack_app_token is not None:
        return "socket"
    return "http" if settings.slack_signing_secret is not None else "off"


class RequestIds:
    """ASGI middleware: each Slack or MCP interaction gets a request id that its log lines carry.

    It also logs one line per Slack or MCP request when it is answered (method, path, status,
    time), so every interaction shows in the log with its id — the thread that ties a click to
    what the core, Anaplan and the listener running on after the reply logged. /healthz stays quiet
    (probes would drown the rest).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        front = "slack" if path.startswith("/slack") else "mcp" if path.startswith("/mcp") else None
        if scope["type"] == "http":
            new_request_id(f"{front}-" if front else "")
        if front is None:
            await self.app(scope, receive, send)
            return
        started, status = time.monotonic(), 500

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            elapsed = (time.monotonic() - started) * 1000
            log.info("%s %s %d (%.0f ms)", scope.get("method", "?"), path, status, elapsed)


class Health:
    """``GET /healthz``: database, Anaplan login (cached a minute) and watcher heartbeat; 200 or 503."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._anaplan: tuple[float, str] | None = None

    async def respond(self, request: Request) -> JSONResponse:
        checks = {
            "database": await self._database(),
            "anaplan": await self._anaplan_login(),
            "watcher": self._watcher(),
        }
        healthy = all(value == "ok" for value in checks.values())
        return JSONResponse(
            {"status": "ok" if healthy else "unhealthy", **checks}, status_code=200 if healthy else 503
        )

    async def _database(self) -> str:
        try:
            await self._services.store.ping()
        except ConnectionError as exc:
            return f"error: {exc}"
        return "ok"

    async def _anaplan_login(self) -> str:
        now = time.monotonic()
        if self._anaplan is None or now - self._anaplan[0] > _ANAPLAN_CHECK_SECONDS:
            try:
                await self._services.client.login()
                verdict = "ok"
            except AlmBotError as exc:
                verdict = f"error: {exc}"
            self._anaplan = (now, verdict)
        return self._anaplan[1]

    def _watcher(self) -> str:
        watcher = self._services.watcher
        if watcher is None or watcher.heartbeat is None:
            return "starting"
        age = time.monotonic() - watcher.heartbeat
        return "ok" if age < _WATCHER_STALE_SECONDS else f"error: last pass {age:.0f}s ago"


def build_app(services: Services, *, host: str = "127.0.0.1", port: int | None = None) -> Starlette:
    """The one ASGI app. Open the services first; the app's lifespan runs the background work."""
    from alm_bot.mcp.http import mcp_http_app

    settings = services.settings
    mode = slack_mode(settings)
    mcp_app = mcp_http_app(services, settings, host=host, port=port)
    routes: list[BaseRoute] = [Route("/healthz", Health(services).respond, methods=["GET"]), *mcp_app.routes]
    slack_app = None
    if mode != "off":
        from alm_bot.slack.app import build_slack_app, slack_events_route
        from alm_bot.slack.notifier import SlackNotifier

        slack_app = build_slack_app(services)
        services.start_watcher(SlackNotifier(slack_app.client, settings, services.ops))
        if mode == "http":
            routes.append(slack_events_route(slack_app, services))
    else:
        services.start_watcher(SlackOff())
    if services.sandbox is not None:
        from alm_bot.sandbox import create_app

        routes.append(Mount("/sandbox", app=create_app(services.sandbox)))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        assert services.watcher is not None
        async with anyio.create_task_group() as tasks, mcp_app.state.session_manager.run():
            tasks.start_soon(services.watcher.run)
            socket_mode = None
            if mode == "socket" and slack_app is not None:
                from alm_bot.slack.app import socket_mode_handler

                socket_mode = socket_mode_handler(slack_app, settings)
                await socket_mode.connect_async()  # type: ignore[no-untyped-call]
            try:
                yield
            finally:
                if socket_mode is not None:
                    await socket_mode.close_async()  # type: ignore[no-untyped-call]
                tasks.cancel_scope.cancel()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestIds)
    return app


class _Server(uvicorn.Server):
    """uvicorn without one habit: re-raising the SIGTERM/SIGINT it caught once it has stopped.

    That re-raise kills the process with the signal (exit -15) before `serve` has closed the
    database and the Anaplan client. For alm-bot the signal is simply the request to stop: it
    stops gracefully, cleans up and exits 0.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach the main thread only (an embedding application owns them)
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    """Bind before starting, so the real port is known (``--port 0`` picks a free one).

    The protocol is named (``IPPROTO_TCP``, not the default 0): asyncio turns Nagle's algorithm off
    (``TCP_NODELAY``) only on connections whose socket says TCP. With it on, every answer written in
    more than one piece — MCP's event streams, Bolt's acknowledgements — waited ~40 ms for the
    client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def banner(settings: Settings, base_url: str, *, sandbox: bool) -> str:
    """What a newcomer needs to start using it, printed once at start-up."""
    mcp_url = f"{base_url}/mcp"
    snippet = json.dumps({"mcpServers": {"alm-bot": {"type": "http", "url": mcp_url}}})
    lines = [
        f"alm-bot is running on {base_url}",
        f"  health:        {base_url}/healthz",
        f"  MCP (HTTP):    {mcp_url}",
        f"  MCP client:    {snippet}",
    ]
    if settings.mcp_oauth_issuer is not None:
        lines.append(f"  MCP auth:      OAuth, access tokens from {settings.mcp_oauth_issuer}")
    elif not settings.mcp_tokens:
        lines.append(
            "  MCP auth:      none (no ALM_BOT_MCP_TOKENS) — allowed because the bind is loopback only"
        )
    mode = slack_mode(settings)
    if mode == "off":
        lines.append(
            "  Slack:         off — set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN "
            "(Socket Mode); everything else works without it"
        )
    elif mode == "http":
        lines.append(f"  Slack:         HTTP mode — set the app's request URLs to {base_url}/slack/events")
    else:
        lines.append("  Slack:         Socket Mode (no public URL needed)")
    if sandbox:
        lines += [
            f"  sandbox:       Anaplan emulator — ANAPLAN_API_URL={base_url}/sandbox/2/0 "
            f"ANAPLAN_AUTH_URL={base_url}/sandbox",
            "                 login admin@sandbox.example / sandbox; models dev, test, prod (prod protected)",
        ]
    return "\n".join(lines)


async def serve(
    settings: Settings,
    options: ServeOptions,
    *,
    started: Callable[[str], Awaitable[None] | None] | None = None,
) -> None:
    """Open the services, bind, print the banner and serve until SIGTERM/SIGINT."""
    sandbox = None
    if options.sandbox:
        from alm_bot.sandbox import Sandbox

        sandbox = Sandbox()
    async with open_services(settings, sandbox=sandbox) as services:
        app = build_app(services, host=options.host, port=options.port)
        settle_heap()
        # Closed here too: uvicorn closes it after serving, but not when start-up fails before that.
        with bind(options.host, options.port) as sock:
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            base_url = f"http://{shown}:{port}"
            config = uvicorn.Config(
                app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=20
            )
            server = _Server(config)
            print(banner(settings, base_url, sandbox=options.sandbox), flush=True)
            if started is not None:
                outcome = started(base_url)
                if outcome is not None:
                    await outcome
            await server.serve(sockets=[sock])


def settle_heap() -> None:
    """Take what start-up created out of the garbage collector's full passes (``gc.freeze``).

    Start-up leaves ~180,000 objects (modules, classes, schemas, the app) that live as long as the
    process. A full collection walks all of them — ~100 ms on a 2-core machine — whenever enough
    allocation triggers one, and whatever request is in flight waits: in tools/bench.py 50
    concurrent ``/alm`` commands had a median acknowledgement of 65 ms but a p99 of 220 ms. Frozen
    objects are skipped by every pass; what requests allocate is still collected as before.
    """
    gc.collect()  # garbage made during start-up is freed, not frozen
    gc.freeze()


def run_serve(settings: Settings, options: ServeOptions) -> int:
    """Entry point of ``alm-bot serve``; returns the exit code."""
    anyio.run(serve, settings, options)
    return 0
