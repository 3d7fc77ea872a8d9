"""Scheduled requests: approved outside a change window, they wait for its opening.

- ``approval_request.runs_at``: when the request's change window lets it start (the watcher claims
  it then: its lease runs out at that moment).
- ``approval_request.window``: why it waits (the window decision's sentence and the zone its start
  is shown in) and, once someone ran it anyway, who overrode the window and why.

Existing rows need no conversion: no request was ever ``scheduled`` before this revision, so both
columns start empty. Going down, a ``scheduled`` request (a state the older code does not know, so
nothing would ever start or end it) is failed with the reason, rather than started outside its window.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)  # alm_bot.store.tables.UtcDateTime stores through this type
_JSON = sa.JSON(none_as_null=True)
_DOWNGRADED = (
    "This request was waiting for its change window when alm-bot was downgraded to a release without "
    "change windows; it was not started. Request it again."
)

_requests = sa.table(
    "approval_request",
    sa.column("state", sa.String()),
    sa.column("result", _JSON),
    sa.column("lease_owner", sa.String()),
)


def upgrade() -> None:
    op.add_column("approval_request", sa.Column("runs_at", _WHEN, nullable=True))
    op.add_column("approval_request", sa.Column("window", _JSON, nullable=True))


def downgrade() -> None:
    outcome = {"successful": False, "message": _DOWNGRADED, "cause": "no_window"}
    op.execute(
        _requests.update()
        .where(_requests.c.state == "scheduled")
        .values(state="failed", result=outcome, lease_owner=None)
    )
    # A plain DROP COLUMN (SQLite 3.35+), not a batch copy of the table: a batch copy drops and
    # recreates approval_request, which the approvals of 0006 still reference at this point.
    op.drop_column("approval_request", "window")
    op.drop_column("approval_request", "runs_at")
