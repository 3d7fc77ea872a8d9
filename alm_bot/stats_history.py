"""Reads the sync requests that ended in a period from the store and hands them to `alm_bot.stats`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from alm_bot.stats import Delivery, DeliveryReport, delivery_figures
from alm_bot.store import ApprovalRequest, AuditEvent, Store, TargetRun
from alm_bot.store.runs import RUNS
from alm_bot.store.transaction import AUDIT, REQUESTS

__all__ = ["delivery_report"]

_OUTCOMES: Final = ("sync_succeeded", "sync_failed")  # the audit actions of alm_bot.operations.recording


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
    requests = await store.select(ApprovalRequest, query)
    runs = await _runs_of(store, query)
    ended = await _outcomes_recorded(store, since)
    deliveries: list[Delivery] = []
    for request in requests:
        # Every target of a release counts for its own model; a row from before target runs, once.
        of_runs = [Delivery.of_run(request, run) for run in runs.get(request.id, [])]
        found = of_runs if of_runs else [Delivery.of(request, ended.get(request.id))]
        deliveries += [d for d in found if d is not None]
    return delivery_figures(deliveries, since=since, until=now, model_id=model_id)


async def _runs_of(store: Store, requests: sa.Select[Any]) -> dict[str, list[TargetRun]]:
    """The target runs of the requests ``requests`` selects, by request id."""
    ids = requests.with_only_columns(REQUESTS.c.id)
    query = sa.select(RUNS).where(RUNS.c.request_id.in_(ids)).order_by(RUNS.c.request_id, RUNS.c.position)
    found: dict[str, list[TargetRun]] = {}
    for run in await store.select(TargetRun, query):
        found.setdefault(run.request_id, []).append(run)
    return found


async def _outcomes_recorded(store: Store, since: datetime) -> dict[str, datetime]:
    """When each sync's outcome was recorded, by request id, from the audit log (it is never edited)."""
    query = (
        sa.select(AUDIT).where(AUDIT.c.action.in_(_OUTCOMES), AUDIT.c.at >= since).order_by(AUDIT.c.id.desc())
    )
    # Oldest last, so the first record of an outcome wins.
    return {event.request_id: event.at for event in await store.select(AuditEvent, query) if event.request_id}
