"""One error out of a task group: what the callers of alm-bot's concurrent steps can translate.

anyio wraps whatever a task group's children raise in an exception group. The front ends translate
alm-bot's own errors (`AlmBotError`: "the database does not answer", an Anaplan refusal) into their
language, but not a group of them — so a group of alm-bot errors comes out as its first one (the
others are the same outage seen by a sibling). A group holding anything else is a defect and comes
out whole, so that nothing hides it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alm_bot.errors import AlmBotError

__all__ = ["first_error_of_group"]


@contextmanager
def first_error_of_group() -> Iterator[None]:
    """Around ``async with create_task_group()``: re-raise a group of alm-bot errors as its first."""
    try:
        yield
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        if len(leaves) == 1 or all(isinstance(leaf, AlmBotError) for leaf in leaves):
            raise leaves[0] from None
        raise


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterator[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
