"""first_error_of_group: a group of alm-bot errors comes out as its first; a defect comes out whole."""

from __future__ import annotations

import anyio
import pytest

from alm_bot.errors import AnaplanUnavailable, StoreUnavailable
from alm_bot.task_groups import first_error_of_group

pytestmark = pytest.mark.anyio


async def fail_with(exc: BaseException) -> None:
    raise exc  # at once: every child fails before the group can cancel its siblings


async def run(*failures: BaseException, nested: BaseException | None = None) -> None:
    """A task group whose children raise ``failures`` (and a nested group's child ``nested``)."""
    with first_error_of_group():
        async with anyio.create_task_group() as group:
            for failure in failures:
                group.start_soon(fail_with, failure)
            group.start_soon(anyio.sleep, 5)
            if nested is not None:
                async with anyio.create_task_group() as inner:
                    inner.start_soon(fail_with, nested)


async def test_one_child_failing_comes_out_as_its_own_error() -> None:
    down = StoreUnavailable("The database does not answer")
    with pytest.raises(StoreUnavailable) as caught:
        await run(down)
    assert caught.value is down


async def test_siblings_failing_with_alm_bot_errors_come_out_as_one_of_them() -> None:
    first, second = StoreUnavailable("down"), AnaplanUnavailable("503", status=503)
    with pytest.raises((StoreUnavailable, AnaplanUnavailable)) as caught:
        await run(first, nested=second)
    assert caught.value in (first, second)


async def test_a_defect_beside_an_alm_bot_error_is_not_hidden() -> None:
    with pytest.raises(BaseExceptionGroup) as caught:
        await run(StoreUnavailable("down"), TypeError("a bug"))
    assert {type(e) for e in caught.value.exceptions} == {StoreUnavailable, TypeError}


async def test_nothing_raised_passes_through() -> None:
    with first_error_of_group():
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.sleep, 0)
