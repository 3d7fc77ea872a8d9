"""The async engine: aiosqlite tuned for concurrent writers, or asyncpg, from one URL.

SQLite: WAL (readers never wait for the writer), a busy timeout (writers queue instead of failing),
``synchronous=NORMAL`` (safe with WAL) and foreign keys on. alm-bot also takes over ``BEGIN`` from
the sqlite3 driver: a write transaction starts with ``BEGIN IMMEDIATE`` so that it holds the write
lock from its first statement. Otherwise a transaction that reads and then writes can meet
``SQLITE_BUSY_SNAPSHOT`` ("database is locked" at once, busy timeout or not) when another
connection wrote in between. Read-only work keeps a plain deferred ``BEGIN``.

Both keep a fixed pool of `POOL_SIZE` connections and open no extra ones for a burst: SQLAlchemy's
default (5, plus up to 10 "overflow" connections closed again as soon as they are returned) opened
and dropped connections on every burst of Slack commands — each a new thread and four PRAGMAs on
SQLite, a login on PostgreSQL — which doubled the CPU of a store call and the time of the burst
(tools/bench.py). Callers beyond the pool wait their turn; every store operation is short and holds
one connection at a time (a transaction works only through its own connection).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from alm_bot.config import async_database_url

__all__ = ["POOL_SIZE", "WRITE", "make_engine"]

WRITE: Final = "alm_bot_write"
"""Execution option that marks a connection's transactions as writes (``BEGIN IMMEDIATE``)."""
POOL_SIZE: Final = 10
_POOL: Final = {"pool_size": POOL_SIZE, "max_overflow": 0}


def make_engine(database_url: str, *, busy_timeout_seconds: float = 10.0) -> AsyncEngine:
    """Create the engine for ``database_url`` (any form ``async_database_url`` accepts). No I/O."""
    url = async_database_url(database_url)
    if not url.startswith("sqlite"):
        return create_async_engine(url, pool_pre_ping=True, **_POOL)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout_seconds}, **_POOL)
    busy_ms = int(busy_timeout_seconds * 1000)

    def on_connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # alm-bot emits BEGIN itself (on_begin)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={busy_ms}")
        # "database is locked" here comes at once, despite the busy timeout: another connection
        # is switching this new file to WAL (or writing) right now. WAL is a property of the file,
        # so this connection follows once that switch is done; it is correct either way.
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    def on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    event.listen(engine.sync_engine, "connect", on_connect)
    event.listen(engine.sync_engine, "begin", on_begin)
    return engine
