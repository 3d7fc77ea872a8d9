"""Run coroutines at the same time and collect their results, bounded by a deadline."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import anyio

T = TypeVar("T")

DEADLINE_SECONDS = 30


async def run_concurrently(calls: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    """Start every call in one task group; return their results in call order."""
    results: dict[int, T] = {}

    async def run(index: int, call: Callable[[], Awaitable[T]]) -> None:
        results[index] = await call()

    with anyio.fail_after(DEADLINE_SECONDS):
        async with anyio.create_task_group() as group:
            for index, call in enumerate(calls):
                group.start_soon(run, index, call)
    return [results[i] for i in range(len(calls))]
