"""`alm-bot serve`: the whole product in one process on one port.

One Starlette app under uvicorn serves ``POST /slack/events`` (Slack HTTP mode), ``/mcp`` (MCP
streamable HTTP), ``GET /healthz`` and, with ``--sandbox``, the Anaplan emulator under ``/sandbox``.
Its lifespan runs, under a `Supervisor`, the watcher, the MCP session manager and the Slack link
(`alm_bot.slack.link`: Socket Mode connection or bot-token check, in the background — Slack never
holds up start-up). A task that stops is restarted; one that cannot be kept running stops serve
with exit code 1, so that an orchestrator restarts it. On SIGTERM uvicorn stops accepting, lets
in-flight requests finish, then the lifespan ends: the watcher stops and releases its leases, and
the process exits 0.

Refusals come before side effects: `run_serve` checks the MCP exposure and binds the port before
the database is opened (migrations), so a wrong ``--host`` or a busy ``--port`` is one line, exit 1.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import signal
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

import anyio
import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alm_bot.banner import SLACK_OFF_NOTE, banner, slack_mode
from alm_bot.config import Settings
from alm_bot.errors import AlmBotError
from alm_bot.health import Health
from alm_bot.logs import new_request_id
from alm_bot.notify import Notice
from alm_bot.services import Services, open_services
from alm_bot.supervisor import Supervisor

if TYPE_CHECKING:
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
    from slack_bolt.async_app import AsyncApp

    from alm_bot.slack.link import SlackLink
    from alm_bot.slack.refusals import RefusalWatch

__all__ = ["ServeOptions", "ServeStopped", "build_app", "listen", "run_serve", "serve", "settle_heap"]

log = logging.getLogger("alm_bot.serve")


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    sandbox: bool = False


class ServeStopped(AlmBotError):
    """serve stopped itself because part of it could not be kept running (exit code 1)."""


class SlackOff:
    """The notifier while Slack is not configured. The watcher is told not to deliver at all."""

    async def deliver(self, notice: Notice) -> None:
        raise RuntimeError(f"Slack is not configured (SLACK_BOT_TOKEN): {SLACK_OFF_NOTE}")


class DemoNotices:
    """``serve --sandbox`` without Slack: each notice is one line on stdout, so the demo shows its end."""

    async def deliver(self, notice: Notice) -> None:
        request = notice.request
        about = f"request {request.id} ({request.state})" if request is not None else "—"
        print(f"notice to {notice.destination}: {notice.kind.replace('_', ' ')}: {about}", flush=True)


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


def build_app(
    services: Services,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    on_fatal: Callable[[str], None] | None = None,
) -> Starlette:
    """The one ASGI app. Open the services first; the app's lifespan runs the background work.

    ``on_fatal(reason)`` is called when a background task cannot be kept running (`serve` stops
    then); without it, the reason is only logged.
    """
    from alm_bot.mcp.http import mcp_http_app

    settings = services.settings
    mode = slack_mode(settings)
    supervisor = Supervisor(on_fatal or (lambda _reason: None))
    mcp_app = mcp_http_app(services, settings, host=host, port=port)
    link: SlackLink | None = None
    refusals: RefusalWatch | None = None
    slack_app: AsyncApp | None = None
    slack_routes: list[BaseRoute] = []
    slack_client = None
    if mode != "off":
        from alm_bot.slack.app import build_slack_app, slack_events_route
        from alm_bot.slack.link import SlackLink
        from alm_bot.slack.notifier import SlackNotifier
        from alm_bot.slack.refusals import RefusalWatch

        slack_app = build_slack_app(services)
        slack_client = slack_app.client
        app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        link = SlackLink(slack_app.client, app=slack_app, app_token=app_token if mode == "socket" else None)
        # Deliveries wait while Slack refuses the token or is out of reach: no warning per notice.
        services.start_watcher(
            SlackNotifier(slack_app.client, settings, services.ops), deliver=lambda: link.accepts_posts
        )
        refusals = RefusalWatch(services)
        if mode == "http":
            slack_routes.append(slack_events_route(slack_app, services))
    elif services.sandbox is not None:
        services.start_watcher(DemoNotices())
    else:
        services.start_watcher(SlackOff(), deliver=False)
    health = Health(services, link)
    routes: list[BaseRoute] = [Route("/healthz", health.respond, methods=["GET"]), *mcp_app.routes]
    routes += slack_routes
    from alm_bot.metrics import metrics_route

    routes.append(metrics_route(services, slack_client))  # after the watcher exists: it hooks into it
    if services.sandbox is not None:
        from alm_bot.sandbox import create_app

        routes.append(Mount("/sandbox", app=create_app(services.sandbox)))

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        watcher = services.watcher
        assert watcher is not None
        if mode == "off" and services.sandbox is None:
            log.info("Slack is off: %s", SLACK_OFF_NOTE)
        async with anyio.create_task_group() as tasks:
            await tasks.start(_mcp_sessions, mcp_app.state.session_manager, supervisor)
            tasks.start_soon(supervisor.keep, "watcher", watcher.run)
            if link is not None:
                tasks.start_soon(supervisor.keep, "Slack link", link.run)
            if refusals is not None:
                tasks.start_soon(supervisor.keep, "refused-notice watch", refusals.run)
            try:
                yield
            finally:
                tasks.cancel_scope.cancel()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(RequestIds)
    app.state.supervisor = supervisor
    app.state.slack_link = link
    app.state.refusals = refusals
    return app


async def _mcp_sessions(
    session_manager: StreamableHTTPSessionManager,
    supervisor: Supervisor,
    *,
    task_status: anyio.abc.TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
) -> None:
    """The MCP session manager, for as long as serve runs. It runs once: if it stops, serve stops."""

    async def run() -> None:
        async with session_manager.run():
            task_status.started()
            await anyio.sleep_forever()

    await supervisor.once("MCP session manager", run)


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


def listen(host: str, port: int) -> socket.socket:
    """`bind`, with a busy port or a wrong host as a one-line refusal (`AlmBotError`)."""
    try:
        return bind(host, port)
    except OSError as exc:
        raise AlmBotError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc} — choose another --port or --host"
        ) from None


async def serve(
    settings: Settings,
    options: ServeOptions,
    *,
    started: Callable[[str], Awaitable[None] | None] | None = None,
    listener: socket.socket | None = None,
) -> None:
    """Open the services and serve on ``listener`` (bound here if not given) until SIGTERM/SIGINT.

    Raises `ServeStopped` when serve stopped itself because a background task could not be kept up.
    """
    sandbox = None
    if options.sandbox:
        from alm_bot.sandbox import Sandbox

        sandbox = Sandbox()
    # Closed here too: uvicorn closes it after serving, but not when start-up fails before that.
    with listener or listen(options.host, options.port) as sock:
        stop = _Stop()
        async with open_services(settings, sandbox=sandbox) as services:
            bound_port = sock.getsockname()[1]  # the real one, also with --port 0
            app = build_app(services, host=options.host, port=bound_port, on_fatal=stop)
            # In-flight requests get 8 s to finish: with the lifespan's own end, SIGTERM exits within 10 s.
            config = uvicorn.Config(
                app, lifespan="on", log_config=None, access_log=False, timeout_graceful_shutdown=8
            )
            stop.server = server = _Server(config)
            settle_heap()
            host, port = sock.getsockname()[:2]
            shown = f"[{host}]" if ":" in host else host
            base_url = f"http://{shown}:{port}"
            print(banner(settings, base_url, sandbox=options.sandbox), flush=True)
            if started is not None:
                outcome = started(base_url)
                if outcome is not None:
                    await outcome
            await server.serve(sockets=[sock])
        if stop.reason is not None:
            raise ServeStopped(f"serve stopped: {stop.reason}")


class _Stop:
    """``on_fatal`` for `build_app`: remember why, and make uvicorn stop as on SIGTERM."""

    def __init__(self) -> None:
        self.server: uvicorn.Server | None = None
        self.reason: str | None = None

    def __call__(self, reason: str) -> None:
        self.reason = self.reason or reason
        if self.server is not None:
            self.server.should_exit = True


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
    """Entry point of ``alm-bot serve``; returns the exit code.

    The refusals that need no database come first (MCP exposure of ``--host``, the ``--port``),
    before `serve` opens it and applies migrations.
    """
    from alm_bot.mcp.auth import check_http_exposure

    check_http_exposure(options.host, settings)
    anyio.run(partial(serve, settings, options, listener=listen(options.host, options.port)))
    return 0
