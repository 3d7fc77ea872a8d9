"""Change events: listeners called on publish; wait_until re-checks after each change and gives up in time."""

from __future__ import annotations

import anyio
import pytest

from alm_bot.changes import Changes

pytestmark = pytest.mark.anyio


async def test_listeners_are_called_on_every_publish() -> None:
    changes, calls = Changes(), []
    changes.subscribe(lambda: calls.append("woken"))
    changes.publish()
    changes.publish()
    assert calls == ["woken", "woken"]


async def test_wait_until_returns_the_value_once_a_change_makes_the_check_pass() -> None:
    changes, state = Changes(), {"done": False}

    async def check() -> str | None:
        return "finished" if state["done"] else None

    async def finish_later() -> None:
        await anyio.wait_all_tasks_blocked()
        state["done"] = True
        changes.publish()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(finish_later)
            assert await changes.wait_until(check, max_wait=60, recheck=60) == "finished"


async def test_wait_until_rechecks_without_a_change_for_another_replicas_commits() -> None:
    changes, checks = Changes(), []

    async def check() -> int | None:
        checks.append(1)
        return len(checks) if len(checks) == 3 else None

    with anyio.fail_after(5):
        assert await changes.wait_until(check, max_wait=60, recheck=0.01) == 3


async def test_wait_until_gives_none_after_the_timeout() -> None:
    changes = Changes()

    async def never() -> None:
        return None

    with anyio.fail_after(5):
        assert await changes.wait_until(never, max_wait=0.05, recheck=0.01) is None
