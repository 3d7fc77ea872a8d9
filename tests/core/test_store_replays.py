"""The replay guard records a burst of requests in one batch, and still answers each one exactly.

Requests arriving together share a transaction (`ReplayGuard`): every distinct request is a first
sighting once, the same request twice in one burst is one sighting and one replay, a request seen
before is a replay, and the database's error is every waiting caller's error. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import pytest

from alm_bot.store import Store
from alm_bot.store.replays import ReplayGuard

pytestmark = pytest.mark.anyio

SOON = datetime.now(UTC) + timedelta(minutes=5)


async def burst(guard: ReplayGuard, requests: list[tuple[str, int]]) -> list[bool | BaseException]:
    """Ask about every request at once; each one's answer (or error), in order."""
    answers: list[bool | BaseException] = [False] * len(requests)

    async def ask(index: int, signature: str, timestamp: int) -> None:
        try:
            answers[index] = await guard.first_sighting(signature, timestamp, SOON)
        except Exception as exc:
            answers[index] = exc

    async with anyio.create_task_group() as group:
        for index, (signature, timestamp) in enumerate(requests):
            group.start_soon(ask, index, signature, timestamp)
    return answers


async def test_a_burst_is_answered_request_by_request(store: Store) -> None:
    guard = ReplayGuard(store)
    requests = [(f"v0={n:04x}", 1_800_000_000 + n) for n in range(40)]
    assert await burst(guard, requests) == [True] * 40
    assert await burst(guard, requests[:3]) == [False] * 3  # seen before: replays
    async with store.engine.connect() as connection:
        count = (await connection.exec_driver_sql("SELECT count(*) FROM seen_request")).scalar_one()
    assert count == 40


async def test_the_same_request_twice_in_one_burst_is_acted_on_once(store: Store) -> None:
    twice = [("v0=same", 1_800_000_500)] * 2 + [("v0=other", 1_800_000_501)]
    answers = await burst(ReplayGuard(store), twice)
    assert sorted(answers[:2]) == [False, True]
    assert answers[2] is True


async def test_a_database_error_is_the_answer_of_every_caller_of_the_batch(store: Store) -> None:
    guard = ReplayGuard(store)
    async with store.engine.connect() as connection:
        await connection.exec_driver_sql("DROP TABLE seen_request")
        await connection.commit()
    answers = await burst(guard, [("v0=a", 1), ("v0=b", 2), ("v0=a", 1)])
    assert all(isinstance(a, Exception) for a in answers), answers
    assert len({type(a) for a in answers}) == 1
