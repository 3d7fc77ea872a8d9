"""Offset/limit paging of a list response, with Anaplan's ``meta.paging`` (reference §1.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from alm_bot.sandbox.inputs import Page

__all__ = ["paginate"]

T = TypeVar("T")


def paginate(items: Sequence[T], page: Page) -> tuple[list[T], dict[str, Any]]:
    """The page's items and its ``paging`` object ``{currentPageSize, offset, totalSize}``.

    The ``next``/``previous`` links seen on the Integration API are not sent: whether ALM sends
    them is unknown, and clients page by offset anyway.
    """
    chunk = list(items[page.offset : page.offset + page.limit])
    return chunk, {"currentPageSize": len(chunk), "offset": page.offset, "totalSize": len(items)}
