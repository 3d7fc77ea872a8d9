"""Reading a limit/offset-paginated Anaplan list to its end (reference §1.3).

Pages are read one after another, each asking for the maximum page size and starting where the items
received so far end. Advancing by what actually arrived (not by what was asked for) respects a
server that silently caps ``limit``. A response without ``meta.paging`` (or without ``totalSize``) is
the whole list; an empty page ends the loop whatever the totals say, so a shrinking list cannot make
it spin.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Final, TypeVar

from alm_bot.anaplan.envelopes import Paging

__all__ = ["MAX_PAGE_SIZE", "read_all_pages"]

MAX_PAGE_SIZE: Final = 5000

T = TypeVar("T")
FetchPage = Callable[[int, int], Awaitable[tuple[Sequence[T], Paging | None]]]


async def read_all_pages(fetch_page: FetchPage[T], page_size: int = MAX_PAGE_SIZE) -> list[T]:
    """Call ``fetch_page(offset, limit)`` until ``totalSize`` items have been read."""
    items: list[T] = []
    while True:
        page, paging = await fetch_page(len(items), page_size)
        items.extend(page)
        if paging is None or paging.total_size is None or not page or len(items) >= paging.total_size:
            return items
