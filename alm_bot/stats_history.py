"""Reads the sync requests that ended in a period from the store and hands them to `alm_bot.stats`."""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from alm_bot.stats import Delivery, DeliveryReport, delivery_figures
from alm_bot.store import ApprovalRequest, Store
from alm_bot.store.transaction import REQUESTS

__all__ = ["delivery_report"]


async def delivery_report(
    store: Store, *, period: timedelta, now: datetime, model_id: str | None = None
) -> DeliveryReport:
    """The delivery figures of the last ``period`` up to ``now``, of one target model or of all."""
    since = now - period
    query = sa.select(REQUESTS).where(
        REQUESTS.c.operation == "sync",
        REQUESTS.c.state.in_(["succeeded", "failed"]),
        REQUESTS.c.updated_at >= since,
    )
    if model_id is not None:
        query = query.where(REQUESTS.c.target_model_id == model_id)
    requests = await store.select(ApprovalRequest, query)
    deliveries = [d for d in map(Delivery.of, requests) if d is not None]
    return delivery_figures(deliveries, since=since, until=now, model_id=model_id)
