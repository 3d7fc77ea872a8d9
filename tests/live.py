"""Live servers and clients for end-to-end tests: uvicorn on loopback, MCP over HTTP, bounded polling.

`serving(app)` serves any ASGI app (its lifespan included) on an ephemeral 127.0.0.1 port and yields
the base URL once uvicorn is listening; `drain_bolt_listeners()` lets Bolt's listeners (which run on
after their HTTP reply) finish before what they use is closed; `mcp_client(url, token)` is an MCP
client over streamable HTTP with a bearer token; `eventually(check, what)` polls a condition that has
no event to wait on, bounded, and names what it waited for when it gives up.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import anyio
import httpx2
import uvicorn
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from starlette.types import ASGIApp

from alm_bot.serve import bind

__all__ = ["WAIT", "drain_bolt_listeners", "eventually", "mcp_client", "serving"]

WAIT = 15.0
"""Upper bound of every wait; a passing test never comes near it."""


async def eventually(
    check: Callable[[], Awaitable[bool] | bool],
    what: str,
    *,
    timeout: float = WAIT,  # noqa: ASYNC109 - the bound is the point of this helper
) -> None:
    """Poll ``check`` until it holds; `AssertionError` naming ``what`` after ``timeout`` seconds."""
    try:
        with anyio.fail_after(timeout):
            while True:
                held = check()
                if await held if inspect.isawaitable(held) else held:
                    return
                await anyio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(f"gave up after {timeout:g}s waiting for {what}") from None


@asynccontextmanager
async def serving(app: ASGIApp, *, lifespan: str = "on") -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on an ephemeral loopback port; yields ``http://127.0.0.1:PORT``.

    The socket is bound before uvicorn starts, so the port is known at once; the URL is yielded only
    after the app's lifespan started (a failed start-up fails here, not in a hanging request).
    """
    listener = bind("127.0.0.1", 0)  # the product's own bind: a TCP socket, so Nagle is off
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    stopped = anyio.Event()
    hung = False

    async def run() -> None:
        try:
            await server.serve(sockets=[listener])
        finally:
            stopped.set()

    with listener:
        async with anyio.create_task_group() as tg:
            tg.start_soon(run)
            try:
                await eventually(lambda: server.started or stopped.is_set(), "uvicorn to start")
                if not server.started:
                    raise AssertionError("uvicorn stopped during start-up (see the lifespan error above)")
                yield f"http://127.0.0.1:{port}"
            finally:
                # A graceful shutdown (lifespan included) even when the test failed inside.
                server.should_exit = True
                with anyio.CancelScope(shield=True), anyio.move_on_after(WAIT):
                    await stopped.wait()
                if not stopped.is_set():
                    # A shutdown that hangs (the app's lifespan) must fail the test, not hang the run.
                    tg.cancel_scope.cancel()
                    hung = True
    if hung:
        raise AssertionError(f"uvicorn did not shut down within {WAIT:g}s (see the app's lifespan)")


@asynccontextmanager
async def mcp_client(url: str, token: str | None) -> AsyncIterator[Client]:
    """An MCP client on the streamable HTTP endpoint ``url``, authenticated with ``token`` if given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30, read=120)) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        yield client


async def drain_bolt_listeners() -> None:
    """Wait (bounded) for Bolt's listener tasks that outlive the HTTP reply they acknowledged."""
    current = asyncio.current_task()
    with anyio.fail_after(WAIT):
        while others := [
            t
            for t in asyncio.all_tasks()
            if t is not current and not t.done() and "run_ack_function" in repr(t.get_coro())
        ]:
            await asyncio.wait(others, timeout=WAIT)
