"""A TCP proxy on 127.0.0.1 that a test controls: put it in front of PostgreSQL and cut the line.

::

    async with TcpProxy("127.0.0.1", 5432) as proxy:
        url = f"postgresql://postgres@127.0.0.1:{proxy.port}/db"
        ...
        await proxy.cut(seconds=1.0)   # every open connection is dropped; new ones are refused for 1 s

While cut, a new connection is accepted and closed at once (as a server restarting looks to a
client); ``proxy.connections`` counts those served so far, ``proxy.refused`` those turned away.

``proxy.cut_after_commit(seconds, marked=b"...")`` arms the worst cut of all, the one a failover
makes: on the next connection whose transaction sent ``marked``, the ``COMMIT`` reaches PostgreSQL,
which commits, and its answer is swallowed — the line is cut before the client hears it. The client
sees a dropped connection and cannot tell whether its transaction happened. ``proxy.commits_unheard``
counts such commits. Mark with a parameter's value: SQL text is a poor mark, since a column name is
in every SELECT of its table and asyncpg sends a statement's text only when it first prepares it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Self

import anyio
from anyio.abc import SocketStream, TaskGroup

__all__ = ["TcpProxy"]


class TcpProxy:
    """Forwards connections to ``target_host:target_port``; see the module docstring."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self.refused = 0
        self._cut_until = 0.0
        self.commits_unheard = 0
        self._armed: tuple[float, bytes] | None = None  # cut_after_commit's length and mark
        self._open: set[anyio.CancelScope] = set()
        self._tasks: TaskGroup | None = None
        self._scope = anyio.CancelScope()

    async def __aenter__(self) -> Self:
        listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        self.port = int(listener.extra(anyio.abc.SocketAttribute.local_port))  # noqa: S610 - not Django
        self._tasks = anyio.create_task_group()
        await self._tasks.__aenter__()
        self._tasks.start_soon(self._serve, listener)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._tasks is not None
        self._tasks.cancel_scope.cancel()
        await self._tasks.__aexit__(kind, exc, tb)

    @property
    def is_cut(self) -> bool:
        return time.monotonic() < self._cut_until

    async def cut(self, seconds: float = 1.0) -> None:
        """Drop every open connection now, and refuse new ones for ``seconds``."""
        self._cut_until = time.monotonic() + seconds
        for scope in list(self._open):
            scope.cancel()

    def cut_after_commit(self, seconds: float = 1.0, *, marked: bytes) -> None:
        """Arm: let the next COMMIT of a transaction that sent ``marked`` through, swallow its
        answer, then cut as `cut` does (see the module docstring)."""
        self._armed = (seconds, marked)

    async def _serve(self, listener: anyio.abc.Listener[SocketStream]) -> None:
        async with listener:
            await listener.serve(self._handle)

    async def _handle(self, client: SocketStream) -> None:
        async with client:
            if self.is_cut:
                self.refused += 1
                return
            try:
                upstream = await anyio.connect_tcp(*self.target)
            except OSError:
                self.refused += 1
                return
            self.connections += 1
            with anyio.CancelScope() as scope:
                self._open.add(scope)
                try:
                    line = _Line(self)
                    async with upstream, anyio.create_task_group() as pipes:
                        pipes.start_soon(_pipe, client, upstream, pipes, line.to_server)
                        pipes.start_soon(_pipe, upstream, client, pipes, line.to_client)
                finally:
                    self._open.discard(scope)

    async def _commit_unheard(self, seconds: float) -> None:
        self._armed = None
        self.commits_unheard += 1
        await self.cut(seconds)


class _Line:
    """One proxied connection's watch for an armed `TcpProxy.cut_after_commit`."""

    def __init__(self, proxy: TcpProxy) -> None:
        self.proxy = proxy
        self.marked = False  # the open transaction sent the mark
        self.committing: float | None = None  # the cut's length, once its COMMIT went through

    async def to_server(self, chunk: bytes) -> bool:
        armed = self.proxy._armed
        if armed is not None:
            seconds, mark = armed
            self.marked = self.marked or mark in chunk
            if self.marked and b"COMMIT" in chunk:
                self.committing = seconds
            elif b"COMMIT" in chunk or b"ROLLBACK" in chunk:
                self.marked = False  # that transaction ended without the mark's commit
        return True

    async def to_client(self, chunk: bytes) -> bool:
        if self.committing is None:
            return True
        await self.proxy._commit_unheard(self.committing)  # the answer to COMMIT never arrives
        return False


async def _pipe(
    source: SocketStream, sink: SocketStream, pipes: TaskGroup, passes: Callable[[bytes], Awaitable[bool]]
) -> None:
    """Copy what ``passes`` lets through until either side closes; then end both directions."""
    try:
        async for chunk in source:
            if not await passes(chunk):
                break
            await sink.send(chunk)
    except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
        pass
    pipes.cancel_scope.cancel()
