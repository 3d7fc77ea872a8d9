"""Replay guard for signed Slack requests; the outbox's "attempt started" marker.

- ``seen_request``: (signature, timestamp) of each signed request acted on, until its 5-minute
  window has passed, so a replay (to any replica) is recognised.
- ``outbox.attempt_started_at``: when a delivery attempt whose outcome is unknown started, so the
  next attempt asks Slack whether it has the message before posting again.

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)  # alm_bot.store.tables.UtcDateTime stores through this type


def upgrade() -> None:
    op.create_table(
        "seen_request",
        sa.Column("signature", sa.String(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", _WHEN, nullable=False),
        sa.PrimaryKeyConstraint("signature", "timestamp"),
    )
    op.create_index("ix_seen_request_expires_at", "seen_request", ["expires_at"])
    op.add_column("outbox", sa.Column("attempt_started_at", _WHEN, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("attempt_started_at")
    op.drop_table("seen_request")
