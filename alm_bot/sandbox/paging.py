"""Offset/limit paging of a list response, with Anaplan's ``meta.paging`` (reference §1.3)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from starlette.requests import Request

from alm_bot.sandbox.inputs import Page

__all__ = ["paginate"]

T = TypeVar("T")


def paginate(
    items: Sequence[T], page: Page, request: Request, *, links: bool = True
) -> tuple[list[T], dict[str, Any]]:
    """The page's items and its ``paging`` object ``{currentPageSize, offset, totalSize, next?,
    previous?}``.

    ``next``/``previous`` (with ``links``) are the request's own URL with the neighbouring
    ``offset``, present only when that page exists, as on the Integration API (INT-OAS). Whether
    ALM sends them too is unknown, hence the switch.
    """
    chunk = list(items[page.offset : page.offset + page.limit])
    paging: dict[str, Any] = {"currentPageSize": len(chunk), "offset": page.offset, "totalSize": len(items)}
    if links:
        url = request.url
        if page.offset + len(chunk) < len(items) and chunk:
            paging["next"] = str(url.include_query_params(limit=page.limit, offset=page.offset + len(chunk)))
        if page.offset > 0:
            previous = max(0, page.offset - page.limit)
            paging["previous"] = str(url.include_query_params(limit=page.limit, offset=previous))
    return chunk, paging
