"""How `alm-bot serve` readies its process to answer quickly: its listening socket and its heap."""

from __future__ import annotations

import asyncio
import gc
import socket
from pathlib import Path

import anyio
import pytest

from alm_bot.config import load_settings
from alm_bot.serve import ServeOptions, bind, serve
from alm_bot.services import sandbox_defaults
from tests.live import WAIT, eventually

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


async def test_serve_takes_its_start_up_objects_out_of_full_garbage_collections(tmp_path: Path) -> None:
    # A full collection over everything start-up created took ~100 ms: the tail of Slack's acks.
    settings = load_settings(
        env={"ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}"}, defaults=sandbox_defaults()
    )
    frozen: list[int] = []

    async def started(url: str) -> None:
        frozen.append(gc.get_freeze_count())
        raise _Started

    try:
        with anyio.fail_after(WAIT), pytest.raises(_Started):
            await serve(settings, ServeOptions(port=0, sandbox=True), started=started)
    finally:
        gc.unfreeze()  # this test process keeps collecting as before

    assert frozen[0] > 10_000


class _Started(Exception):
    """Stops `serve` once it is ready to serve."""
