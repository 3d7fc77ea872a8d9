"""Fixtures for the core: a migrated ``Store`` on a fresh SQLite file and, when available, PostgreSQL.

``database_url`` is parametrised over ``sqlite`` and ``postgres``. PostgreSQL runs when
``ALM_BOT_TEST_POSTGRES_URL`` names a server (e.g. ``postgresql://postgres@127.0.0.1:5432/test``);
each test gets a database of its own, created from that URL and dropped afterwards, so tests
running at the same time (other developers, CI) never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

from alm_bot.store import Store

POSTGRES_URL_VARIABLE = "ALM_BOT_TEST_POSTGRES_URL"


def _postgres_dsn(url: str, database: str) -> str:
    """A plain libpq URL (what asyncpg takes) for ``database`` on the server of ``url``."""
    parsed = make_url(url).set(drivername="postgresql", database=database)
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str) -> asyncpg.Connection:
    return await asyncpg.connect(_postgres_dsn(url, make_url(url).database or "postgres"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database, in the form a user would write it (the store normalises it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alm-bot.db'}"
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; e.g. postgresql://postgres@127.0.0.1:5432/test")
    name = f"alm_bot_test_{secrets.token_hex(6)}"
    admin = await _admin(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _postgres_dsn(server, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A store with the schema at head; disposed after the test."""
    store = Store(database_url)
    try:
        await store.upgrade()
        yield store
    finally:
        await store.dispose()
