"""A fresh database of each kind alm-bot supports, as the ``database_url`` fixture (``tests/conftest.py``).

``database_url`` is parametrised over ``sqlite`` (a file under ``tmp_path``) and ``postgres``.
PostgreSQL runs when ``ALM_BOT_TEST_POSTGRES_URL`` names a server (e.g.
``postgresql://postgres@127.0.0.1:5432/test``) and is skipped with that reason otherwise; each test
gets a database of its own, created from that URL and dropped afterwards (with any connections a
killed process left behind), so tests running at the same time never see each other's rows.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy.engine import make_url

__all__ = ["POSTGRES_URL_VARIABLE", "database_url", "sqlite_url"]

POSTGRES_URL_VARIABLE = "ALM_BOT_TEST_POSTGRES_URL"


def _libpq(url: str, database: str) -> str:
    """A plain ``postgresql://`` URL (what asyncpg and alm-bot take) for ``database`` on that server."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of an empty database, in the form an operator writes it (the store normalises it)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'alm-bot.db'}"
        return
    server = os.environ.get(POSTGRES_URL_VARIABLE)
    if not server:
        pytest.skip(f"{POSTGRES_URL_VARIABLE} is not set; e.g. postgresql://postgres@127.0.0.1:5432/test")
    name = f"alm_bot_test_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(_libpq(server, make_url(server).database or "postgres"))
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield _libpq(server, name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file, for tests that need only one kind of database."""
    return f"sqlite:///{tmp_path / 'alm-bot.db'}"
