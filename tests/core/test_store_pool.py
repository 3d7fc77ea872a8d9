"""The store's connection pool: a burst of work reuses the pool's connections, it never opens more."""

from __future__ import annotations

import pytest
from concurrently import run_concurrently
from sqlalchemy import event

from alm_bot.store import Store
from alm_bot.store.engine import POOL_SIZE

pytestmark = pytest.mark.anyio


async def test_bursts_bigger_than_the_pool_wait_for_its_connections_instead_of_opening_more(
    database_url: str,
) -> None:
    # Opening a connection per burst (a thread and PRAGMAs on SQLite, a login on PostgreSQL) doubled
    # the CPU of every store call during a burst of Slack commands.
    store = Store(database_url)
    opened: list[object] = []
    try:
        await store.upgrade()
        event.listen(store.engine.sync_engine, "connect", lambda *_: opened.append(None))
        for _ in range(3):
            answers = await run_concurrently([store.list_requests] * (POOL_SIZE * 4))
            assert answers == [[]] * (POOL_SIZE * 4)
    finally:
        await store.dispose()

    assert len(opened) <= POOL_SIZE
