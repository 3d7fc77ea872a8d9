"""The sandbox served by uvicorn on an ephemeral loopback port: real sockets, real HTTP."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import uvicorn

from alm_bot.sandbox import Sandbox, create_app

__all__ = ["serving"]


class ReadyServer(uvicorn.Server):
    """A uvicorn server that says when it is listening."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = anyio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.ready.set()


@asynccontextmanager
async def serving(sandbox: Sandbox, *, tls: tuple[str, str] | None = None) -> AsyncIterator[str]:
    """The sandbox under uvicorn on an ephemeral loopback port, for the duration of the block.

    ``tls`` (certificate file, key file) serves it over HTTPS.
    """
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    certificate, key = tls or (None, None)
    config = uvicorn.Config(
        create_app(sandbox), log_level="warning", lifespan="off", ssl_certfile=certificate, ssl_keyfile=key
    )
    server = ReadyServer(config)
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(server.serve, [sock])
            with anyio.fail_after(5):
                await server.ready.wait()
            try:
                yield f"{'https' if tls else 'http'}://127.0.0.1:{sock.getsockname()[1]}"
            finally:
                server.should_exit = True
    finally:
        sock.close()
