"""The schema: migrations in code, idempotent and concurrent upgrades, SQLite tuning, append-only audit."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from concurrently import run_concurrently
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine
from store_builders import ADA, PROD

from alm_bot.config import async_database_url
from alm_bot.store import Store
from alm_bot.store.migrate import head_revision
from alm_bot.store.tables import metadata

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def raw_connection(database_url: str) -> AsyncIterator[AsyncConnection]:
    engine = create_async_engine(async_database_url(database_url))
    try:
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def test_upgrade_brings_a_new_database_to_the_shipped_head(database_url: str) -> None:
    store = Store(database_url)
    try:
        assert await store.schema_revision() is None
        await store.upgrade()
        assert await store.schema_revision() == head_revision()
    finally:
        await store.dispose()


async def test_upgrading_twice_is_a_no_op_that_keeps_the_data(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.audit("kept", ADA, model_id=PROD)
    await store.upgrade()
    assert await store.schema_revision() == head_revision()
    assert [e.action for e in await store.list_audit()] == ["kept"]


async def test_two_stores_upgrading_one_new_database_at_once_both_succeed(database_url: str) -> None:
    stores = [Store(database_url), Store(database_url)]
    try:
        await run_concurrently([s.upgrade for s in stores])
        assert [await s.schema_revision() for s in stores] == [head_revision()] * 2
    finally:
        for s in stores:
            await s.dispose()


async def test_the_migrations_create_exactly_the_tables_the_code_declares(
    store: Store, database_url: str
) -> None:
    def differences(connection: sa.Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    async with raw_connection(database_url) as connection:
        assert await connection.run_sync(differences) == []


async def test_audit_events_cannot_be_changed_or_deleted(store: Store, database_url: str) -> None:
    async with store.transaction() as tx:
        await tx.audit("approved", ADA, model_id=PROD)
    for statement in ("UPDATE audit_event SET action = 'rejected'", "DELETE FROM audit_event"):
        async with raw_connection(database_url) as connection:
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                await connection.execute(sa.text(statement))
    assert [e.action for e in await store.list_audit()] == ["approved"]


async def test_sqlite_connections_use_wal_a_busy_timeout_normal_sync_and_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'tuned.db'}", busy_timeout_seconds=7)
    try:
        async with store.engine.connect() as connection:
            pragmas = {
                name: (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "busy_timeout", "synchronous", "foreign_keys")
            }
    finally:
        await store.dispose()
    assert pragmas == {"journal_mode": "wal", "busy_timeout": 7000, "synchronous": 1, "foreign_keys": 1}


async def test_ping_passes_when_the_database_answers(store: Store) -> None:
    await store.ping()


async def test_ping_raises_connection_error_without_the_password_when_nothing_answers() -> None:
    store = Store("postgresql://alm:s3cret@127.0.0.1:1/alm")  # port 1: refused at once
    try:
        with pytest.raises(
            ConnectionError, match=r"postgresql\+asyncpg://alm:\*\*\*@127.0.0.1:1/alm"
        ) as caught:
            await store.ping()
        assert "s3cret" not in str(caught.value)
    finally:
        await store.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///alm.db", "sqlite+aiosqlite:///alm.db"),
        ("sqlite+aiosqlite:////var/lib/alm.db", "sqlite+aiosqlite:////var/lib/alm.db"),
        ("postgresql://alm:pw@db:5432/alm", "postgresql+asyncpg://alm:pw@db:5432/alm"),
        ("postgres://alm@db/alm", "postgresql+asyncpg://alm@db/alm"),
        ("postgresql+asyncpg://alm@db/alm", "postgresql+asyncpg://alm@db/alm"),
    ],
)
def test_database_urls_are_normalised_to_the_async_driver(url: str, expected: str) -> None:
    assert async_database_url(url) == expected


def test_the_store_repr_hides_the_database_password() -> None:
    assert "s3cret" not in repr(Store("postgresql://alm:s3cret@db/alm"))


async def test_a_store_connects_to_a_new_file_while_another_connection_holds_its_write_lock(
    tmp_path: Path,
) -> None:
    path = tmp_path / "busy.db"
    other = sqlite3.connect(path, isolation_level=None)  # a new file, still in rollback-journal mode
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE elsewhere (x)")
        store = Store(f"sqlite:///{path}")
        try:
            await store.ping()  # switching to WAL is refused now; the connection must still work
            other.execute("COMMIT")
            await store.upgrade()
            assert await store.schema_revision() == head_revision()
        finally:
            await store.dispose()
    finally:
        other.close()
