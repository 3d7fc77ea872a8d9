"""The figures `/metrics` reads from the store at scrape time: requests, outbox, and event-time histograms.

Every figure here is a fact the existing code already records (``created_at``, ``decided_at``,
``finished_at``, ``sent_at``), so nothing outside this module had to change to measure it, and every
replica reports the same values (aggregate them with ``max``, not ``sum``). The histograms cover every
stored row, so they are cumulative like counters and survive restarts.

`StoreFigures.read` runs a handful of reads on one connection under a short timeout; when the database
does not answer in time, the scrape still answers with the in-process counters and
``alm_bot_store_up 0``.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

import anyio
import sqlalchemy as sa
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from alm_bot.store import Store
from alm_bot.store.transaction import OUTBOX, REQUESTS, TASKS

__all__ = ["APPROVAL_BUCKETS", "LAG_BUCKETS", "SYNC_BUCKETS", "StoreCollector", "StoreFigures"]

log = logging.getLogger("alm_bot.metrics")

APPROVAL_BUCKETS: Final = (60.0, 300.0, 900.0, 1800.0, 3600.0, 4 * 3600.0, 8 * 3600.0, 86400.0, 3 * 86400.0)
SYNC_BUCKETS: Final = (5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
LAG_BUCKETS: Final = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
# Outbox kinds that tell someone an Anaplan task finished; they are enqueued in the transaction that
# records the finish, so a row's created_at is the moment the task was seen finished.
_TASK_OUTCOME_NOTICES: Final = ("task_finished", "comparison_ready")


@dataclass
class Durations:
    """Observed durations (seconds) for one histogram, by label value ("" when unlabelled)."""

    by_label: dict[str, list[float]] = field(default_factory=dict)

    def add(self, label: str, start: datetime | None, end: datetime | None) -> None:
        if start is not None and end is not None:
            self.by_label.setdefault(label, []).append(max(0.0, (end - start).total_seconds()))


@dataclass
class StoreFigures:
    """One scrape's reading of the store."""

    requests: dict[tuple[str, str], int] = field(default_factory=dict)
    outbox_depth: int = 0
    outbox_oldest: datetime | None = None
    approval_wait: Durations = field(default_factory=Durations)
    sync_duration: Durations = field(default_factory=Durations)
    notice_lag: Durations = field(default_factory=Durations)

    @classmethod
    async def read(cls, store: Store, max_seconds: float) -> StoreFigures | None:
        """The figures, or None (logged) when the store does not answer within ``max_seconds``."""
        try:
            with anyio.fail_after(max_seconds):
                return await cls._read(store)
        except (TimeoutError, OSError, sa.exc.SQLAlchemyError) as exc:
            log.warning("/metrics: the database did not answer, store figures left out: %s", exc or "timeout")
            return None

    @classmethod
    async def _read(cls, store: Store) -> StoreFigures:
        figures = cls()
        async with store.engine.connect() as db:
            grouped = sa.select(REQUESTS.c.operation, REQUESTS.c.state, sa.func.count()).group_by(
                REQUESTS.c.operation, REQUESTS.c.state
            )
            for operation, state, count in await db.execute(grouped):
                figures.requests[(operation, state)] = count
            waiting = [OUTBOX.c.sent_at.is_(None), OUTBOX.c.next_attempt_at.is_not(None)]
            depth = sa.select(sa.func.count(), sa.func.min(OUTBOX.c.created_at)).where(*waiting)
            figures.outbox_depth, figures.outbox_oldest = (await db.execute(depth)).one()
            decided = sa.select(REQUESTS.c.created_at, REQUESTS.c.decided_at).where(
                REQUESTS.c.decided_at.is_not(None)
            )
            for created, decided_at in await db.execute(decided):
                figures.approval_wait.add("", created, decided_at)
            syncs = sa.select(TASKS.c.model_id, TASKS.c.created_at, TASKS.c.finished_at).where(
                TASKS.c.kind == "sync", TASKS.c.finished_at.is_not(None)
            )
            for model_id, created, finished in await db.execute(syncs):
                figures.sync_duration.add(model_id, created, finished)
            sent = sa.select(OUTBOX.c.created_at, OUTBOX.c.sent_at).where(
                OUTBOX.c.kind.in_(_TASK_OUTCOME_NOTICES), OUTBOX.c.sent_at.is_not(None)
            )
            for created, sent_at in await db.execute(sent):
                figures.notice_lag.add("", created, sent_at)
        return figures


class StoreCollector(Collector):
    """Yields the last `StoreFigures` read (the `/metrics` route reads them just before collecting)."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self.figures: StoreFigures | None = None

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("alm_bot_store_up", "1 when the store answered this scrape, else 0")
        up.add_metric([], 1.0 if self.figures is not None else 0.0)
        yield up
        if self.figures is not None:
            yield from self._families(self.figures)

    def _families(self, figures: StoreFigures) -> Iterator[Metric]:
        requests = GaugeMetricFamily(
            "alm_bot_requests", "Stored requests by operation and state", labels=["operation", "state"]
        )
        for (operation, state), count in sorted(figures.requests.items()):
            requests.add_metric([operation, state], count)
        yield requests
        yield _gauge(
            "alm_bot_outbox_depth", "Notices waiting to be delivered (not given up)", figures.outbox_depth
        )
        oldest = 0.0
        if figures.outbox_oldest is not None:
            oldest = max(0.0, (self._clock() - figures.outbox_oldest).total_seconds())
        yield _gauge(
            "alm_bot_outbox_oldest_age_seconds", "Age of the oldest waiting notice (0: none)", oldest
        )
        yield _histogram(
            "alm_bot_approval_wait_seconds",
            "Time from request to decision (approve, reject or cancel by a person)",
            figures.approval_wait,
            APPROVAL_BUCKETS,
        )
        yield _histogram(
            "alm_bot_sync_duration_seconds",
            "Time from Anaplan accepting a sync to the watcher seeing it finish, by target model",
            figures.sync_duration,
            SYNC_BUCKETS,
            label="target",
        )
        yield _histogram(
            "alm_bot_notice_lag_seconds",
            "Time from a task being seen finished to its notice being delivered",
            figures.notice_lag,
            LAG_BUCKETS,
        )


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _histogram(
    name: str, documentation: str, durations: Durations, bounds: Sequence[float], *, label: str | None = None
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, documentation, labels=[label] if label else None)
    by_label = durations.by_label or ({} if label else {"": []})
    for value, observed in sorted(by_label.items()):
        family.add_metric([value] if label else [], _cumulative(observed, bounds), sum(observed))
    return family


def _cumulative(observed: Iterable[float], bounds: Sequence[float]) -> list[tuple[str, float]]:
    """Prometheus buckets: for each upper bound, how many observations are at or below it."""
    ordered = sorted(observed)
    buckets = [(repr(float(b)), float(bisect.bisect_right(ordered, b))) for b in bounds]
    return [*buckets, ("+Inf", float(len(ordered)))]
