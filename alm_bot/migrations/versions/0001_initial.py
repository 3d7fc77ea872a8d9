"""Initial schema: approval requests, tracked tasks, outbox, append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2025-06-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)  # alm_bot.store.tables.UtcDateTime stores through this type
_JSON = sa.JSON(none_as_null=True)

_SQLITE_APPEND_ONLY = [
    f"""CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_APPEND_ONLY = [
    """CREATE FUNCTION alm_bot_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit_event is append-only'; END $$""",
    """CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
        FOR EACH ROW EXECUTE FUNCTION alm_bot_audit_append_only()""",
]


def upgrade() -> None:
    _create_approval_request()
    _create_tracked_task()
    _create_outbox()
    _create_audit_event()


def _create_approval_request() -> None:
    op.create_table(
        "approval_request",
        sa.Column("id", sa.String(), primary_key=True),
        sa.Column("operation", sa.String(), nullable=False),
        sa.Column("parameters", _JSON, nullable=False),
        sa.Column("plan", _JSON, nullable=False),
        sa.Column("target_model_id", sa.String(), nullable=False),
        sa.Column("requester_id", sa.String(), nullable=False),
        sa.Column("requester_name", sa.String(), nullable=False),
        sa.Column("origin", sa.String(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("decided_by_id", sa.String(), nullable=True),
        sa.Column("decided_by_name", sa.String(), nullable=True),
        sa.Column("decided_at", _WHEN, nullable=True),
        sa.Column("reason", sa.String(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("expires_at", _WHEN, nullable=True),
        sa.Column("slack_channel", sa.String(), nullable=True),
        sa.Column("slack_ts", sa.String(), nullable=True),
        sa.Column("anaplan_task_id", sa.String(), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("updated_at", _WHEN, nullable=False),
    )
    op.create_index("ix_approval_request_state_expires_at", "approval_request", ["state", "expires_at"])
    op.create_index("ix_approval_request_card", "approval_request", ["slack_channel", "slack_ts"])
    op.create_index("ix_approval_request_requester_id", "approval_request", ["requester_id"])
    op.create_index("ix_approval_request_target_model_id", "approval_request", ["target_model_id"])
    op.create_index("ix_approval_request_created_at", "approval_request", ["created_at"])


def _create_tracked_task() -> None:
    op.create_table(
        "tracked_task",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("model_id", sa.String(), nullable=False),
        sa.Column("anaplan_task_id", sa.String(), nullable=False),
        sa.Column("request_id", sa.String(), sa.ForeignKey("approval_request.id"), nullable=True),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("next_poll_at", _WHEN, nullable=False),
        sa.Column("poll_interval_seconds", sa.Float(), nullable=False),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", _WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_step", sa.String(), nullable=True),
        sa.Column("result", _JSON, nullable=True),
        sa.Column("notify", sa.String(), nullable=True),
        sa.Column("context", _JSON, nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.Column("finished_at", _WHEN, nullable=True),
        sa.UniqueConstraint("kind", "model_id", "anaplan_task_id", name="uq_tracked_task_kind_model_task"),
    )
    op.create_index("ix_tracked_task_state_next_poll_at", "tracked_task", ["state", "next_poll_at"])
    op.create_index("ix_tracked_task_request_id", "tracked_task", ["request_id"])


def _create_outbox() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("destination", sa.String(), nullable=False),
        sa.Column("payload", _JSON, nullable=False),
        sa.Column("dedupe_key", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", _WHEN, nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", _WHEN, nullable=True),
        sa.Column("sent_at", _WHEN, nullable=True),
        sa.Column("receipt", _JSON, nullable=True),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.Column("created_at", _WHEN, nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_sent_at_next_attempt_at", "outbox", ["sent_at", "next_attempt_at"])


def _create_audit_event() -> None:
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", _WHEN, nullable=False),
        sa.Column("request_id", sa.String(), nullable=True),
        sa.Column("model_id", sa.String(), nullable=True),
        sa.Column("actor_id", sa.String(), nullable=True),
        sa.Column("actor_name", sa.String(), nullable=True),
        sa.Column("origin", sa.String(), nullable=True),
        sa.Column("action", sa.String(), nullable=False),
        sa.Column("detail", _JSON, nullable=False),
    )
    op.create_index("ix_audit_event_request_id", "audit_event", ["request_id"])
    op.create_index("ix_audit_event_model_id", "audit_event", ["model_id"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_APPEND_ONLY if dialect == "postgresql" else _SQLITE_APPEND_ONLY:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS alm_bot_audit_append_only()")
    for table in ("audit_event", "outbox", "tracked_task", "approval_request"):
        op.drop_table(table)
