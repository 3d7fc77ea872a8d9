"""Target runs: a sync request's progress per target, so one request can be a release into many models.

- ``target_run``: one row per target of a sync request (position, wave, state, the Anaplan task
  that runs it — unique across all requests —, the start intent, the outcome).
- Every existing sync request gets its one run, taken from the request's own columns: its task id,
  start intent and result; the state follows the request's (``executing`` with a task → running,
  without one → starting; succeeded/failed as they are; anything else → waiting).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)  # alm_bot.store.tables.UtcDateTime stores through this type
_JSON = sa.JSON(none_as_null=True)

_requests = sa.table(
    "approval_request",
    sa.column("id", sa.String),
    sa.column("operation", sa.String),
    sa.column("plan", _JSON),
    sa.column("state", sa.String),
    sa.column("target_model_id", sa.String),
    sa.column("anaplan_task_id", sa.String),
    sa.column("start_intent", _JSON),
    sa.column("result", _JSON),
)
_runs = sa.table(
    "target_run",
    sa.column("request_id", sa.String),
    sa.column("position", sa.Integer),
    sa.column("wave", sa.Integer),
    sa.column("target_model_id", sa.String),
    sa.column("state", sa.String),
    sa.column("anaplan_task_id", sa.String),
    sa.column("start_intent", _JSON),
    sa.column("result", _JSON),
    sa.column("created_at", _WHEN),
    sa.column("updated_at", _WHEN),
)


def upgrade() -> None:
    op.create_table(
        "target_run",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("request_id", sa.String(), sa.ForeignKey("approval_request.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("wave", sa.Integer(), nullable=False),
        sa.Column("target_model_id", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("anaplan_task_id", sa.String(), nullable=True),
        sa.Column("start_intent", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("blocked_reason", sa.String(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("updated_at", _WHEN, nullable=False),
        sa.UniqueConstraint("request_id", "position", name="uq_target_run_request_position"),
    )
    op.create_index("uq_target_run_anaplan_task_id", "target_run", ["anaplan_task_id"], unique=True)
    op.create_index("ix_target_run_target_model_id", "target_run", ["target_model_id"])
    _convert_existing_requests()


def _run_state(state: str, task_id: str | None) -> str:
    if state == "executing":
        return "running" if task_id else "starting"
    return state if state in ("succeeded", "failed") else "waiting"


def _convert_existing_requests() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    if bind.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)  # as UtcDateTime stores it there
    query = sa.select(_requests).where(_requests.c.operation == "sync")
    rows = [
        {
            "request_id": row.id,
            "position": 0,
            "wave": 0,
            "target_model_id": row.target_model_id,
            "state": _run_state(row.state, row.anaplan_task_id),
            "anaplan_task_id": row.anaplan_task_id,
            "start_intent": row.start_intent,
            "result": row.result,
            "created_at": now,
            "updated_at": now,
        }
        for row in bind.execute(query).all()
    ]
    if rows:
        bind.execute(sa.insert(_runs), rows)


def downgrade() -> None:
    op.drop_index("ix_target_run_target_model_id", table_name="target_run")
    op.drop_index("uq_target_run_anaplan_task_id", table_name="target_run")
    op.drop_table("target_run")
