"""Delivery figures per model over a period, from stored sync requests (pure: no I/O, no clock).

The four figures DevOps teams use to see how releases go, for Anaplan syncs:

Each target of a release counts for its own model (its target run), like a sync of its own.

- **deployment frequency**: syncs that succeeded in the period, per week;
- **lead time**: request → succeeded, median (issue 15 item 2 will move the end to "verified");
- **change failure rate**: of the syncs that ran in Anaplan, the share that failed (a request that
  failed before Anaplan started anything — planning, a stale plan — is not a deployment);
- **time to restore**: from a target's first failed sync to its next successful one, median; a
  target still failing at the end of the period counts as not restored.

Front ends (the CLI's and Slack's stats commands) only word these `ModelFigures`.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from alm_bot.errors import InvalidArgument
from alm_bot.store import ApprovalRequest, TargetRun

__all__ = [
    "DEFAULT_PERIOD",
    "Delivery",
    "DeliveryReport",
    "ModelFigures",
    "delivery_figures",
    "format_duration",
    "parse_period",
]

DEFAULT_PERIOD: Final = timedelta(days=90)
_PERIOD: Final = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS: Final = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}
_ENDED: Final = frozenset({"succeeded", "failed"})


@dataclass(frozen=True)
class Delivery:
    """One sync request as the figures see it."""

    request_id: str
    model_id: str
    model_name: str
    requested_at: datetime
    ended_at: datetime  # when it succeeded or failed
    succeeded: bool
    ran: bool  # Anaplan started a sync task for it

    @classmethod
    def of(cls, request: ApprovalRequest, ended_at: datetime | None = None) -> Delivery | None:
        """The delivery a stored request stands for; None unless it is a sync that ended.

        ``ended_at`` is when its outcome was recorded (the audit's ``sync_succeeded``/``sync_failed``);
        without it, the request's last update stands in (later writes, e.g. a verification, move it).
        """
        if request.operation != "sync" or request.state not in _ENDED:
            return None
        plan = request.plan
        name = (
            plan.target.model.name if plan.operation == "sync" else plan.model.name
        ) or request.target_model_id
        return cls(
            request_id=request.id,
            model_id=request.target_model_id,
            model_name=str(name),
            requested_at=request.created_at,
            ended_at=ended_at or request.updated_at,
            succeeded=request.state == "succeeded",
            ran=request.anaplan_task_id is not None,
        )

    @classmethod
    def of_run(cls, request: ApprovalRequest, run: TargetRun) -> Delivery | None:
        """The delivery one target of a sync request (a release has several) stands for; None unless
        that target's run ended. It ends when its run last changed (its outcome)."""
        if request.operation != "sync" or run.state not in _ENDED:
            return None
        plan = request.plan
        targets = plan.targets if plan.operation == "sync" else ()
        name = targets[run.position].model.name if run.position < len(targets) else ""
        return cls(
            request_id=request.id,
            model_id=run.target_model_id,
            model_name=name or run.target_model_id,
            requested_at=request.created_at,
            ended_at=run.updated_at,
            succeeded=run.state == "succeeded",
            ran=run.anaplan_task_id is not None,
        )


@dataclass(frozen=True)
class ModelFigures:
    """The four figures for one target model; durations in seconds, None when nothing to measure."""

    model_id: str
    model_name: str
    deployments: int  # syncs that ran in Anaplan and ended in the period
    succeeded: int
    failed: int
    deployments_per_week: float  # succeeded per week
    lead_time_seconds: float | None  # median request → succeeded
    change_failure_rate: float  # failed / deployments
    time_to_restore_seconds: float | None  # median first failure → next success
    restored: int
    not_restored: int


@dataclass(frozen=True)
class DeliveryReport:
    since: datetime
    until: datetime
    models: tuple[ModelFigures, ...]


def parse_period(text: str) -> timedelta:
    """``90d``, ``12w`` or ``48h`` → that span; anything else is refused with the accepted forms."""
    found = _PERIOD.match(text)
    if found is None or int(found.group(1)) == 0:
        raise InvalidArgument("since", f"{text!r} is not a period: use e.g. 90d, 12w or 48h.")
    return int(found.group(1)) * _UNITS[found.group(2).lower()]


def delivery_figures(
    deliveries: Iterable[Delivery], *, since: datetime, until: datetime, model_id: str | None = None
) -> DeliveryReport:
    """Figures per target model for deliveries that ended in ``[since, until]``, busiest model first."""
    by_model: dict[str, list[Delivery]] = {}
    for d in deliveries:
        if d.ran and since <= d.ended_at <= until and model_id in (None, d.model_id):
            by_model.setdefault(d.model_id, []).append(d)
    weeks = max((until - since) / timedelta(weeks=1), 1 / 7)
    figures = [_model_figures(sorted(ds, key=lambda d: d.ended_at), weeks) for ds in by_model.values()]
    figures.sort(key=lambda f: (-f.deployments, f.model_name))
    return DeliveryReport(since, until, tuple(figures))


def _model_figures(deliveries: Sequence[Delivery], weeks: float) -> ModelFigures:
    successes = [d for d in deliveries if d.succeeded]
    failed = len(deliveries) - len(successes)
    restores, not_restored = _restores(deliveries)
    return ModelFigures(
        model_id=deliveries[0].model_id,
        model_name=deliveries[-1].model_name,
        deployments=len(deliveries),
        succeeded=len(successes),
        failed=failed,
        deployments_per_week=len(successes) / weeks,
        lead_time_seconds=_median((d.ended_at - d.requested_at).total_seconds() for d in successes),
        change_failure_rate=failed / len(deliveries),
        time_to_restore_seconds=_median(restores),
        restored=len(restores),
        not_restored=not_restored,
    )


def _restores(deliveries: Sequence[Delivery]) -> tuple[list[float], int]:
    """Seconds from each run of failures' first failure to the success that ended it; runs not ended."""
    restores: list[float] = []
    broken_since: datetime | None = None
    for d in deliveries:
        if not d.succeeded and broken_since is None:
            broken_since = d.ended_at
        elif d.succeeded and broken_since is not None:
            restores.append((d.ended_at - broken_since).total_seconds())
            broken_since = None
    return restores, int(broken_since is not None)


def _median(values: Iterable[float]) -> float | None:
    found = list(values)
    return statistics.median(found) if found else None


def format_duration(seconds: float | None) -> str:
    """``2d 3h``, ``1h 05m``, ``4m 10s``, ``12s``; ``-`` when there is nothing to measure."""
    if seconds is None:
        return "-"
    whole = round(seconds)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
