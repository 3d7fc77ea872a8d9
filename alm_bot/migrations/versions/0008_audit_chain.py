"""The audit log becomes a hash chain; existing events are chained in id order.

- ``audit_event.prev_hash`` and ``audit_event.hash`` (both unique): each event's SHA-256 over its
  content and the previous event's hash (``alm_bot.store.chain``; the first event follows 64 zeros).
- ``audit_chain``: one row, the head (newest hash, length), locked by every append.

The append-only triggers are lifted for the backfill only (SQLite: dropped and re-created;
PostgreSQL: disabled and enabled again, inside this migration's transaction). The hash function is
a frozen copy of ``alm_bot.store.chain.canonical`` (a migration must not import the application);
a test checks that the app verifies what this backfill wrote.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True)
_GENESIS = "0" * 64
_HASHED = ("at", "request_id", "model_id", "actor_id", "actor_name", "origin", "action", "detail")

_audit = sa.table(
    "audit_event",
    *(sa.column(name, sa.String()) for name in ("request_id", "model_id", "actor_id", "actor_name")),
    sa.column("id", sa.Integer()),
    sa.column("at", _WHEN),
    sa.column("origin", sa.String()),
    sa.column("action", sa.String()),
    sa.column("detail", _JSON),
    sa.column("prev_hash", sa.String()),
    sa.column("hash", sa.String()),
)
_chain = sa.table(
    "audit_chain",
    sa.column("name", sa.String()),
    sa.column("head_hash", sa.String()),
    sa.column("length", sa.Integer()),
    sa.column("head_event_id", sa.Integer()),
)
_SQLITE_TRIGGERS = {
    verb: f"""CREATE TRIGGER audit_event_no_{verb.lower()} BEFORE {verb} ON audit_event
        BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
}


def _hash(event: dict[str, Any], prev_hash: str) -> str:
    content = {key: event.get(key) for key in _HASHED}
    at: datetime = event["at"]
    at = at if at.utcoffset() is not None else at.replace(tzinfo=UTC)
    content["at"] = at.astimezone(UTC).isoformat(timespec="microseconds")
    content["detail"] = event.get("detail") or {}
    content["prev_hash"] = prev_hash
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def upgrade() -> None:
    op.add_column("audit_event", sa.Column("prev_hash", sa.String(), nullable=True))
    op.add_column("audit_event", sa.Column("hash", sa.String(), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("head_hash", sa.String(), nullable=False),
        sa.Column("length", sa.Integer(), nullable=False),
        sa.Column("head_event_id", sa.Integer(), nullable=True),
    )
    _with_updates_allowed(_backfill)
    op.create_index("uq_audit_event_prev_hash", "audit_event", ["prev_hash"], unique=True)
    op.create_index("uq_audit_event_hash", "audit_event", ["hash"], unique=True)


def _backfill() -> None:
    bind = op.get_bind()
    head, length, last_id = _GENESIS, 0, None
    for row in bind.execute(sa.select(_audit).order_by(_audit.c.id)).mappings().all():
        digest = _hash(dict(row), head)
        bind.execute(sa.update(_audit).where(_audit.c.id == row["id"]).values(prev_hash=head, hash=digest))
        head, length, last_id = digest, length + 1, row["id"]
    bind.execute(sa.insert(_chain).values(name="audit", head_hash=head, length=length, head_event_id=last_id))


def _with_updates_allowed(step: Any) -> None:
    """Run ``step`` with the append-only triggers lifted, and put them back."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
        step()
        op.execute("ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only")
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
    step()
    op.execute(_SQLITE_TRIGGERS["UPDATE"])


def downgrade() -> None:
    op.drop_index("uq_audit_event_hash", table_name="audit_event")
    op.drop_index("uq_audit_event_prev_hash", table_name="audit_event")
    op.drop_table("audit_chain")
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch copy would drop the table's triggers.
    for column in ("hash", "prev_hash"):
        op.execute(f"ALTER TABLE audit_event DROP COLUMN {column}")
