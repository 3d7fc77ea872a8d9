"""Approvals and nudges: each person's approval of a request, and each reminder or escalation, once.

- ``approval``: primary key (request_id, approver_id) — one row per person and request, so a
  second approval by the same person (a double click, two replicas) is refused by the database.
- ``approval_nudge``: primary key (request_id, kind) — the claim that sends a reminder or an
  escalation exactly once.

Existing requests have no rows here: a request approved before this migration keeps its decider on
its own row (``decided_by_id``), and a pending one counts its approvals from now on.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)  # alm_bot.store.tables.UtcDateTime stores through this type


def upgrade() -> None:
    op.create_table(
        "approval",
        sa.Column("request_id", sa.String(), sa.ForeignKey("approval_request.id"), nullable=False),
        sa.Column("approver_id", sa.String(), nullable=False),
        sa.Column("approver_name", sa.String(), nullable=False),
        sa.Column("groups", sa.JSON(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("request_id", "approver_id"),
    )
    op.create_table(
        "approval_nudge",
        sa.Column("request_id", sa.String(), sa.ForeignKey("approval_request.id"), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("request_id", "kind"),
    )


def downgrade() -> None:
    op.drop_table("approval_nudge")
    op.drop_table("approval")
