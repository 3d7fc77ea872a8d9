"""The socket `alm-bot serve` listens on: connections it accepts send small answers at once."""

from __future__ import annotations

import asyncio
import socket

import anyio
import pytest

from alm_bot.serve import bind
from tests.live import eventually

pytestmark = pytest.mark.anyio


class _Probe(asyncio.Protocol):
    """Records TCP_NODELAY of the accepted connection, as uvicorn's transport would find it."""

    def __init__(self, seen: list[int]) -> None:
        self.seen = seen

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        accepted = transport.get_extra_info("socket")
        self.seen.append(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        transport.close()


async def test_connections_accepted_on_serves_socket_have_nagles_algorithm_off() -> None:
    # With Nagle on, an answer written in two pieces (an MCP event stream, a Bolt acknowledgement)
    # waits for the client's delayed ACK: ~40 ms per MCP tool call before this was fixed.
    seen: list[int] = []
    listener = bind("127.0.0.1", 0)
    server = await asyncio.get_running_loop().create_server(lambda: _Probe(seen), sock=listener)
    try:
        client = await anyio.connect_tcp("127.0.0.1", listener.getsockname()[1])
        await client.aclose()
        await eventually(lambda: bool(seen), "the connection to be accepted")
    finally:
        server.close()
        await server.wait_closed()

    assert seen[0] != 0
