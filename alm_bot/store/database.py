"""The database connection: engine, migrations, health, and the transaction every write goes through.

A dropped or refused connection becomes `StoreUnavailable`, so callers (the watcher above all) can
tell "the database is down, try again later" from a bug without knowing the driver's exceptions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlmodel import SQLModel

from alm_bot.errors import StoreUnavailable
from alm_bot.store import migrate
from alm_bot.store.engine import WRITE, make_engine
from alm_bot.store.tables import utcnow
from alm_bot.store.transaction import Transaction, row_to

__all__ = ["Database"]

_Row = TypeVar("_Row", bound=SQLModel)


# What a lost, restarting or locked database looks like from inside an open connection: the
# operation at hand fails with `StoreUnavailable` (retried by the watcher), not as a bug.
_OUTAGE_SIGNS = (
    "database is locked",  # SQLite: another process held the write lock past the busy timeout
    "database is busy",
    "connection was closed",  # asyncpg: the server or a proxy dropped the connection mid-operation
    "connection is closed",
    "connection_lost",
    "terminating connection",  # PostgreSQL shutting down or a failover (57P01 admin shutdown)
    "the database system is",  # … starting up / shutting down / in recovery mode
    "server closed the connection",
)


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` says the database went away or is locked, rather than that a statement is wrong."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.exc.InterfaceError):
        return True
    text = f"{type(getattr(exc, 'orig', exc)).__name__} {getattr(exc, 'orig', exc)}".lower()
    return "connectiondoesnotexist" in text or any(sign in text for sign in _OUTAGE_SIGNS)


class Database:
    """The connection to alm-bot's database. Creating it does no I/O; call ``upgrade()`` before use."""

    def __init__(
        self,
        database_url: str | SecretStr,
        *,
        busy_timeout_seconds: float = 10.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        if isinstance(database_url, SecretStr):
            database_url = database_url.get_secret_value()
        self._engine = make_engine(database_url, busy_timeout_seconds=busy_timeout_seconds)
        self._clock = clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._engine.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> AsyncEngine:
        """The SQLAlchemy engine, for diagnostics and tests; change state through the methods."""
        return self._engine

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._engine.dialect.name

    # --- lifecycle -------------------------------------------------------------------------------

    async def upgrade(self) -> None:
        """Apply the shipped migrations up to head; a no-op when already there; concurrency-safe."""
        try:
            await migrate.upgrade(self._engine)
        except (OSError, sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise self._unavailable(exc) from exc

    async def schema_revision(self) -> str | None:
        return await migrate.schema_revision(self._engine)

    async def ping(self) -> None:
        """Raise `StoreUnavailable` (a ``ConnectionError`` naming the database, never its password)."""
        try:
            async with self._engine.connect() as connection:
                await connection.execute(sa.text("SELECT 1"))
        except (OSError, sa.exc.SQLAlchemyError) as exc:
            raise self._unavailable(exc) from exc

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[AsyncConnection]:
        """A connection; `StoreUnavailable` when none can be opened or the link drops while in use.

        Callers (the watcher above all) can then tell "the database is down, try again later"
        from a bug, without knowing the driver's exceptions.
        """
        opened = False
        try:
            async with self._engine.connect() as connection:
                opened = True
                yield connection
        except (OSError, sa.exc.DBAPIError) as exc:
            if opened and not is_outage(exc):
                raise
            raise self._unavailable(exc) from exc

    def _unavailable(self, exc: BaseException) -> StoreUnavailable:
        where = self._engine.url.render_as_string(hide_password=True)
        cause = getattr(exc, "orig", None) or exc  # the driver's words, without SQLAlchemy's SQL dump
        said = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return StoreUnavailable(f"The database {where} does not answer: {said}")

    async def dispose(self) -> None:
        await self._engine.dispose()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One write transaction; commits when the block ends, rolls back if it raises.

        Inside, work only through ``tx``: another ``Store`` write would need a second connection,
        which on SQLite waits for this transaction's write lock until the busy timeout.
        """
        async with self._connect() as connection:
            connection = await connection.execution_options(**{WRITE: True})
            async with connection.begin():
                yield Transaction(connection, self._clock)

    async def select(self, model: type[_Row], query: sa.Select[Any]) -> list[_Row]:
        """Run a read and return detached snapshots of its rows."""
        async with self._connect() as connection:
            return [row_to(model, row) for row in await connection.execute(query)]
