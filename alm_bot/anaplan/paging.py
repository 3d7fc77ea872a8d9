"""Reading a limit/offset-paginated Anaplan list, lazily, page by page (reference §1.3).

``iter_items`` yields items as pages arrive and asks for the next page only when the caller wants
more, so ``limit=20`` on a history of thousands costs one small request. Each page asks for at most
the maximum page size (or what is left of ``limit``). The next page is the server's
``meta.paging.next`` link when it sends one (the fetcher decides whether the link is safe to follow),
else the offset where the items received so far end — advancing by what actually arrived, not by
what was asked for, respects a server that silently caps ``limit``. A response without
``meta.paging`` (or without ``totalSize`` and ``next``) is the whole list; an empty page ends the
loop whatever the totals say, so a shrinking list cannot make it spin.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Final, TypeVar

from alm_bot.anaplan.envelopes import Paging

__all__ = ["MAX_PAGE_SIZE", "PageRequest", "iter_items", "read_all_pages"]

MAX_PAGE_SIZE: Final = 5000

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Which page to fetch: by ``offset``/``limit``, or by the server's ``next`` link when given."""

    offset: int
    limit: int
    link: str | None = None


FetchPage = Callable[[PageRequest], Awaitable[tuple[Sequence[T], Paging | None]]]


def _is_last(page: Sequence[object], paging: Paging | None, read: int) -> bool:
    if paging is None or not page:
        return True
    if paging.next is not None:
        return False
    return paging.total_size is None or read >= paging.total_size


async def iter_items(
    fetch_page: FetchPage[T], *, limit: int | None = None, page_size: int = MAX_PAGE_SIZE
) -> AsyncIterator[T]:
    """Yield the list's items in order, at most ``limit`` of them, fetching pages on demand."""
    read = 0
    link: str | None = None
    while limit is None or read < limit:
        size = page_size if limit is None else min(page_size, limit - read)
        page, paging = await fetch_page(PageRequest(read, size, link))
        for item in page[: None if limit is None else limit - read]:
            read += 1
            yield item
        if _is_last(page, paging, read):
            return
        link = paging.next if paging is not None else None


async def read_all_pages(fetch_page: FetchPage[T], *, limit: int | None = None) -> list[T]:
    """Every item (or the first ``limit``) of the list, read page after page."""
    return [item async for item in iter_items(fetch_page, limit=limit)]
