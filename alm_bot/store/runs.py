"""Target runs: a sync request's progress, one row per target (a plain sync has one, a release several).

::

    waiting → starting → running → succeeded | failed     (starting: intent recorded, POST under way)
    waiting → failed                                      (stale plan, Anaplan refused the start)
    waiting → skipped                                     (a failure stopped the waves before it)
    waiting → dropped                                     (preflight blocked it; the requester dropped it)

``anaplan_task_id`` is unique across every request: an Anaplan task belongs to one target run at
most, which is what recovery's proof of ownership leans on. ``start_intent`` is written in the
compare-and-set that moves the run to ``starting``, before the sync POST. Changes go through
`TargetRuns`, one compare-and-set statement each, inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any, Final, Literal, get_args

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

from alm_bot.records import StartIntent, SyncPlan, TaskOutcome
from alm_bot.store.tables import JsonRecord, UtcDateTime, metadata, normalise_request_id, utcnow

__all__ = [
    "ACTIVE_RUN_STATES",
    "FINAL_RUN_STATES",
    "RUNS",
    "RunState",
    "TargetRun",
    "TargetRuns",
    "needs_a_process",
]

RunState = Literal["waiting", "starting", "running", "succeeded", "failed", "skipped", "dropped"]
RUN_STATES: Final[tuple[RunState, ...]] = get_args(RunState)
ACTIVE_RUN_STATES: Final = frozenset({"starting", "running"})
FINAL_RUN_STATES: Final = frozenset({"succeeded", "failed", "skipped", "dropped"})
_RUN_EDGES: Final[Mapping[str, frozenset[str]]] = {
    "waiting": frozenset({"starting", "failed", "skipped", "dropped"}),
    "starting": frozenset({"running", "failed"}),
    "running": frozenset({"succeeded", "failed"}),
}
_MUTABLE: Final = frozenset({"anaplan_task_id", "start_intent", "result", "blocked_reason"})


class TargetRun(SQLModel, table=True):
    """One target of a sync request: where it stands, the Anaplan task that runs it, how it ended."""

    __tablename__ = "target_run"
    __table_args__ = (
        sa.UniqueConstraint("request_id", "position", name="uq_target_run_request_position"),
        sa.Index("uq_target_run_anaplan_task_id", "anaplan_task_id", unique=True),
        sa.Index("ix_target_run_target_model_id", "target_model_id"),
    )

    id: int = Field(default=None, primary_key=True)
    request_id: str = Field(foreign_key="approval_request.id")
    position: int  # the target's place in the plan's ``targets``
    wave: int = 0
    target_model_id: str
    state: RunState = Field(default="waiting", sa_type=sa.String)
    anaplan_task_id: str | None = None
    start_intent: StartIntent | None = Field(default=None, sa_type=JsonRecord(StartIntent))
    result: TaskOutcome | None = Field(default=None, sa_type=JsonRecord(TaskOutcome))
    blocked_reason: str | None = None  # why preflight found the target unable to take the sync
    created_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UtcDateTime)


RUNS: Final = metadata.tables["target_run"]


class TargetRuns:
    """The target-run statements of one transaction (``Transaction.runs``)."""

    def __init__(self, connection: AsyncConnection, clock: Callable[[], datetime]) -> None:
        self._connection = connection
        self._clock = clock

    async def insert(
        self, request_id: str, plan: SyncPlan, blocked: Mapping[int, str] | None = None
    ) -> list[TargetRun]:
        """One waiting run per target of ``plan``; ``blocked``: position → why preflight blocked it."""
        now = self._clock()
        rows = [
            TargetRun(
                request_id=normalise_request_id(request_id),
                position=position,
                wave=target.wave,
                target_model_id=target.model.id,
                blocked_reason=(blocked or {}).get(position),
                created_at=now,
                updated_at=now,
            ).model_dump(exclude={"id"})
            for position, target in enumerate(plan.targets)
        ]
        await self._connection.execute(sa.insert(RUNS), rows)
        return await self.of_request(request_id)

    async def of_request(self, request_id: str) -> list[TargetRun]:
        query = sa.select(RUNS).where(RUNS.c.request_id == normalise_request_id(request_id))
        rows = (await self._connection.execute(query.order_by(RUNS.c.position))).all()
        return [TargetRun.model_validate(dict(row._mapping)) for row in rows]

    async def by_task(self, anaplan_task_id: str) -> TargetRun | None:
        query = sa.select(RUNS).where(RUNS.c.anaplan_task_id == anaplan_task_id)
        row = (await self._connection.execute(query)).first()
        return TargetRun.model_validate(dict(row._mapping)) if row is not None else None

    async def move(
        self, run_id: int, from_states: Collection[str], to_state: RunState, **fields: Any
    ) -> TargetRun | None:
        """Compare-and-set a run's state (and ``fields``); None if it was not in ``from_states``."""
        for start in from_states:
            if to_state not in _RUN_EDGES.get(start, frozenset()):
                raise ValueError(f"no target-run transition {start} → {to_state}")
        refused = sorted(set(fields) - _MUTABLE)
        if refused:
            raise ValueError(f"cannot set {', '.join(refused)} on a target run")
        values = {**fields, "state": to_state, "updated_at": self._clock()}
        statement = (
            sa.update(RUNS)
            .where(RUNS.c.id == run_id, RUNS.c.state.in_(list(from_states)))
            .values(**values)
            .returning(*RUNS.c)
        )
        row = (await self._connection.execute(statement)).first()
        return TargetRun.model_validate(dict(row._mapping)) if row is not None else None

    async def set_blocked(self, run_id: int, reason: str | None) -> None:
        """Record (or clear) what preflight found; only while the run waits."""
        statement = (
            sa.update(RUNS)
            .where(RUNS.c.id == run_id, RUNS.c.state == "waiting")
            .values(blocked_reason=reason, updated_at=self._clock())
        )
        await self._connection.execute(statement)

    async def task_owners(self, anaplan_task_ids: Collection[str]) -> dict[str, str]:
        """Which request's target run, if any, claims each of these Anaplan task ids."""
        if not anaplan_task_ids:
            return {}
        query = sa.select(RUNS.c.anaplan_task_id, RUNS.c.request_id).where(
            RUNS.c.anaplan_task_id.in_(list(anaplan_task_ids))
        )
        return {row.anaplan_task_id: row.request_id for row in await self._connection.execute(query)}

    async def next_intent_after(self, run: TargetRun, after: datetime) -> datetime | None:
        """The earliest intent recorded by another run on the same target after ``after``, if any."""
        query = sa.select(RUNS.c.id, RUNS.c.start_intent).where(
            RUNS.c.target_model_id == run.target_model_id,
            RUNS.c.id != run.id,
            RUNS.c.start_intent.is_not(None),
        )
        moments = []
        for row in await self._connection.execute(query):
            intent = StartIntent.model_validate(row.start_intent)
            if intent.sent_at > after:
                moments.append(intent.sent_at)
        return min(moments) if moments else None


def needs_a_process(request_id_column: sa.ColumnElement[str]) -> sa.ColumnElement[bool]:
    """SQL: a run of the request is starting (its start must be proven), or none is running, and
    preflight blocked none that still waits.

    A running run's Anaplan task is followed by the watcher; a request with one has nothing for a
    process to do until it finishes. A request with no runs at all (a status change) needs one. A
    blocked run waits for its requester (drop it, or cancel), never for a process.
    """

    def runs_where(*conditions: sa.ColumnElement[bool]) -> sa.Exists:
        return sa.exists(sa.select(RUNS.c.id).where(RUNS.c.request_id == request_id_column, *conditions))

    blocked = runs_where(RUNS.c.state == "waiting", RUNS.c.blocked_reason.is_not(None))
    return sa.and_(
        sa.or_(runs_where(RUNS.c.state == "starting"), ~runs_where(RUNS.c.state == "running")), ~blocked
    )
