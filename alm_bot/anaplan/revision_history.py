"""A model's revision history, read lazily page by page (``GET …/alm/revisions``, reference §4.3).

Histories can be near 1 MB, so the filters Anaplan offers are passed on (``appliedAfter``/
``appliedBefore``, ``sort``) and pages are fetched only as the caller reads on (``paging``), up to
``limit`` revisions. Arguments arrive checked (``validation``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from alm_bot.anaplan.envelopes import Paging, RevisionList
from alm_bot.anaplan.error_mapping import Endpoint
from alm_bot.anaplan.models import Revision
from alm_bot.anaplan.paging import PageRequest, iter_items

if TYPE_CHECKING:
    from alm_bot.anaplan.transport import AnaplanHttp

__all__ = ["revision_history"]


def revision_history(
    http: AnaplanHttp, model_id: str, *, sort: str | None, window: dict[str, str | int], limit: int | None
) -> AsyncIterator[Revision]:
    """The revisions of ``model_id`` matching ``window`` (query parameters), in ``sort`` order."""
    query = dict(window)
    if sort is not None:
        query["sort"] = sort
    endpoint = Endpoint(f"/models/{model_id}/alm/revisions", f"list the revisions of model {model_id}")

    async def fetch_page(at: PageRequest) -> tuple[Sequence[Revision], Paging | None]:
        params = {**query, "limit": at.limit, "offset": at.offset}
        page = await http.get_json(endpoint, RevisionList, params=params, link=at.link)
        return page.revisions, page.meta.paging if page.meta else None

    return iter_items(fetch_page, limit=limit)
