"""Schema migrations, run in code: no ``alembic.ini`` is needed at run time.

``upgrade`` is safe to run from several processes at once on one database: the whole upgrade is
one transaction, serialised by a PostgreSQL advisory lock or by SQLite's write lock
(``BEGIN IMMEDIATE``, waited for up to the busy timeout). Whoever comes second finds the schema at
head and does nothing. Both dialects run DDL transactionally, so a failed upgrade leaves no half.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from alm_bot.store.engine import WRITE

__all__ = ["downgrade", "head_revision", "schema_revision", "upgrade"]

SCRIPT_LOCATION: Final = "alm_bot:migrations"
# Any fixed 64-bit number; it only has to differ from other advisory locks on the same server.
_ADVISORY_LOCK_KEY: Final = 0x616C6D2D626F74  # "alm-bot"


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration shipped with this version of alm-bot."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("alm-bot ships no migrations")  # a broken package, not a runtime condition
    return head


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    """Apply every missing migration (up to ``revision``), in one transaction, under a lock."""
    await _run(engine, lambda connection: command.upgrade(_config(connection), revision))


async def downgrade(engine: AsyncEngine, revision: str) -> None:
    """Undo migrations down to ``revision`` (for operators going back a version, and for tests)."""
    await _run(engine, lambda connection: command.downgrade(_config(connection), revision))


async def _run(engine: AsyncEngine, step: Callable[[Connection], None]) -> None:
    async with engine.connect() as connection:
        connection = await connection.execution_options(**{WRITE: True})
        async with connection.begin():
            if connection.dialect.name == "postgresql":
                # Released at commit; serialises concurrent upgrades across processes and hosts.
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _ADVISORY_LOCK_KEY}
                )
            await connection.run_sync(step)


async def schema_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at; None before the first upgrade."""
    async with engine.connect() as connection:
        return await connection.run_sync(_current_revision)


def _current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()
