"""Fixtures for the core: a migrated ``Store`` on each kind of database (``database_url``, from
`tests.databases` through ``tests/conftest.py``: a fresh SQLite file and, when
``ALM_BOT_TEST_POSTGRES_URL`` is set, a PostgreSQL database of the test's own)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from alm_bot.store import Store


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Store]:
    """A store with the schema at head; disposed after the test."""
    store = Store(database_url)
    try:
        await store.upgrade()
        yield store
    finally:
        await store.dispose()
