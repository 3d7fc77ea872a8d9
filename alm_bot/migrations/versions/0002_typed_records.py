"""Typed records, an opaque card receipt, and what proves who owns an execution.

- ``approval_request.plan``: the flat plan dictionary becomes the nested `SyncPlan`/`StatusPlan` shape
  (``alm_bot.records``); ``tracked_task.context`` becomes a `SyncPlan`; ``outbox.payload`` gains its
  ``kind`` (a ``comparison_ready`` payload is reshaped: ``task_kind``, ``outcome``, ``plan``).
- ``slack_channel``/``slack_ts`` leave the core's table: the notifier's receipt is one opaque string,
  ``card_ref`` (the Slack notifier writes ``"<channel> <ts>"``).
- Executions get a lease (``lease_owner``, ``lease_expires_at``), a ``deadline_at``, ``attempts`` and
  the ``start_intent`` recorded before a sync POST; ``anaplan_task_id`` becomes unique.

The conversions below are frozen copies (a migration must not import the application's models).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHEN = sa.DateTime(timezone=True)
_JSON = sa.JSON(none_as_null=True)
_CARD_SEPARATOR = " "

_requests = sa.table(
    "approval_request",
    sa.column("id", sa.String()),
    sa.column("operation", sa.String()),
    sa.column("plan", _JSON),
    sa.column("slack_channel", sa.String()),
    sa.column("slack_ts", sa.String()),
    sa.column("card_ref", sa.String()),
    sa.column("anaplan_task_id", sa.String()),
    sa.column("created_at", _WHEN),
)
_tasks = sa.table("tracked_task", sa.column("id", sa.Integer()), sa.column("context", _JSON))
_outbox = sa.table(
    "outbox", sa.column("id", sa.Integer()), sa.column("kind", sa.String()), sa.column("payload", _JSON)
)


def upgrade() -> None:
    for column in (
        sa.Column("card_ref", sa.String(), nullable=True),
        sa.Column("lease_owner", sa.String(), nullable=True),
        sa.Column("lease_expires_at", _WHEN, nullable=True),
        sa.Column("deadline_at", _WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("start_intent", _JSON, nullable=True),
    ):
        op.add_column("approval_request", column)
    _convert_requests()
    _unclaim_duplicate_tasks()
    _convert(_tasks, "context", _sync_plan)
    _convert_outbox()
    op.drop_index("ix_approval_request_card", table_name="approval_request")
    _drop_columns("slack_channel", "slack_ts")
    op.create_index("ix_approval_request_card_ref", "approval_request", ["card_ref"])
    op.create_index(
        "ix_approval_request_state_lease_expires_at", "approval_request", ["state", "lease_expires_at"]
    )
    op.create_index(
        "uq_approval_request_anaplan_task_id", "approval_request", ["anaplan_task_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_approval_request_anaplan_task_id", table_name="approval_request")
    op.drop_index("ix_approval_request_state_lease_expires_at", table_name="approval_request")
    op.drop_index("ix_approval_request_card_ref", table_name="approval_request")
    op.add_column("approval_request", sa.Column("slack_channel", sa.String(), nullable=True))
    op.add_column("approval_request", sa.Column("slack_ts", sa.String(), nullable=True))
    bind = op.get_bind()
    for request in bind.execute(sa.select(_requests.c.id, _requests.c.plan, _requests.c.card_ref)).all():
        channel, _, ts = (request.card_ref or "").partition(_CARD_SEPARATOR)
        values = {"plan": _flat_plan(request.plan), "slack_channel": channel or None, "slack_ts": ts or None}
        bind.execute(sa.update(_requests).where(_requests.c.id == request.id).values(**values))
    _convert(_tasks, "context", _flat_sync_plan)
    for row in bind.execute(sa.select(_outbox.c.id, _outbox.c.payload)).all():
        bind.execute(
            sa.update(_outbox).where(_outbox.c.id == row.id).values(payload=_flat_payload(row.payload))
        )
    op.create_index("ix_approval_request_card", "approval_request", ["slack_channel", "slack_ts"])
    _drop_columns("start_intent", "attempts", "deadline_at", "lease_expires_at", "lease_owner", "card_ref")


def _drop_columns(*columns: str) -> None:
    """SQLite ≥ 3.35 drops an unindexed column in place; a batch copy would trip the foreign keys."""
    for column in columns:
        if op.get_bind().dialect.name == "sqlite":
            op.execute(f"ALTER TABLE approval_request DROP COLUMN {column}")
        else:
            op.drop_column("approval_request", column)


# --- upgrade conversions -------------------------------------------------------------------------


def _convert_requests() -> None:
    bind = op.get_bind()
    query = sa.select(
        _requests.c.id,
        _requests.c.operation,
        _requests.c.plan,
        _requests.c.slack_channel,
        _requests.c.slack_ts,
    )
    for row in bind.execute(query).all():
        old = dict(row.plan or {})
        nested = _sync_plan(old) if row.operation == "sync" else _status_plan(old)
        card_ref = (
            f"{row.slack_channel}{_CARD_SEPARATOR}{row.slack_ts}"
            if row.slack_channel and row.slack_ts
            else None
        )
        bind.execute(
            sa.update(_requests).where(_requests.c.id == row.id).values(plan=nested, card_ref=card_ref)
        )


def _unclaim_duplicate_tasks() -> None:
    """Before the unique index: a task id claimed twice (the adoption bug) stays with the oldest request."""
    bind = op.get_bind()
    query = sa.select(_requests.c.id, _requests.c.anaplan_task_id).where(
        _requests.c.anaplan_task_id.is_not(None)
    )
    seen: set[str] = set()
    for row in bind.execute(query.order_by(_requests.c.created_at, _requests.c.id)).all():
        if row.anaplan_task_id in seen:
            bind.execute(sa.update(_requests).where(_requests.c.id == row.id).values(anaplan_task_id=None))
        seen.add(row.anaplan_task_id)


def _convert(table: sa.TableClause, column: str, convert: Callable[[dict[str, Any]], Any]) -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(table.c.id, table.c[column])).all():
        value = row[1]
        if value is not None:
            bind.execute(sa.update(table).where(table.c.id == row.id).values({column: convert(dict(value))}))


def _convert_outbox() -> None:
    bind = op.get_bind()
    for row in bind.execute(sa.select(_outbox.c.id, _outbox.c.kind, _outbox.c.payload)).all():
        data = dict(row.payload or {})
        if row.kind == "comparison_ready":
            data = {
                "kind": "comparison_ready",
                "task_kind": data.get("kind") or "comparison_summary",
                "model_id": data.get("model_id") or "",
                "task_id": data.get("task_id") or "",
                "outcome": _outcome(data.get("result")),
                "plan": _sync_plan(dict(data.get("context") or {})),
            }
        else:
            data = {**data, "kind": row.kind}
        bind.execute(sa.update(_outbox).where(_outbox.c.id == row.id).values(payload=data))


def _outcome(data: Any) -> dict[str, Any]:
    data = dict(data or {})
    return {**data, "successful": bool(data.get("successful"))}


def _model(old: dict[str, Any], prefix: str, alias_key: str) -> dict[str, Any]:
    model_id = old.get(f"{prefix}_id") or ""
    return {"id": model_id, "name": old.get(f"{prefix}_name") or model_id, "alias": old.get(alias_key)}


def _sync_plan(old: dict[str, Any]) -> dict[str, Any]:
    target = {
        "model": _model(old, "target_model", "target_alias"),
        "revision": {
            "id": old.get("target_revision_id") or "",
            "name": old.get("target_revision_name") or "",
        },
        "summary_task_id": old.get("summary_task_id"),
        "summary": old.get("summary"),
        "summary_error": old.get("summary_error"),
    }
    return {
        "operation": "sync",
        "source": _model(old, "source_model", "source_alias"),
        "source_revision": {
            "id": old.get("source_revision_id") or "",
            "name": old.get("source_revision_name") or "",
            "description": old.get("source_revision_description"),
            "created_by": old.get("source_revision_created_by"),
            "created_on": old.get("source_revision_created_on"),
        },
        "targets": [target],
        "protected": bool(old.get("protected")),
    }


def _status_plan(old: dict[str, Any]) -> dict[str, Any]:
    return {
        "operation": "change_status",
        "model": _model(old, "model", "model_alias"),
        "from_state": old.get("from_state") or "",
        "status": old.get("status") if old.get("status") in ("online", "offline") else "offline",
        "protected": bool(old.get("protected")),
    }


# --- downgrade conversions -----------------------------------------------------------------------


def _flat_plan(old: Any) -> dict[str, Any]:
    old = dict(old or {})
    if old.get("operation") == "change_status":
        model = old.get("model") or {}
        return {
            "model_id": model.get("id"),
            "model_name": model.get("name"),
            "model_alias": model.get("alias"),
            "from_state": old.get("from_state"),
            "status": old.get("status"),
            "protected": old.get("protected", False),
        }
    return _flat_sync_plan(old)


def _flat_sync_plan(old: dict[str, Any]) -> dict[str, Any]:
    source, revision = old.get("source") or {}, old.get("source_revision") or {}
    target = (old.get("targets") or [{}])[0]
    model, target_revision = target.get("model") or {}, target.get("revision") or {}
    flat = {
        "source_model_id": source.get("id"),
        "source_model_name": source.get("name"),
        "source_alias": source.get("alias"),
        "target_model_id": model.get("id"),
        "target_model_name": model.get("name"),
        "target_alias": model.get("alias"),
        "source_revision_id": revision.get("id"),
        "source_revision_name": revision.get("name"),
        "source_revision_description": revision.get("description"),
        "source_revision_created_by": revision.get("created_by"),
        "source_revision_created_on": revision.get("created_on"),
        "target_revision_id": target_revision.get("id"),
        "target_revision_name": target_revision.get("name"),
        "protected": old.get("protected", False),
    }
    for key in ("summary_task_id", "summary", "summary_error"):
        if key in target:
            flat[key] = target[key]
    return flat


def _flat_payload(stored: Any) -> dict[str, Any]:
    data: dict[str, Any] = dict(stored or {})
    if data.get("kind") == "comparison_ready":
        return {
            "kind": data.get("task_kind"),
            "model_id": data.get("model_id"),
            "task_id": data.get("task_id"),
            "result": data.get("outcome"),
            "context": _flat_sync_plan(dict(data.get("plan") or {})),
        }
    data.pop("kind", None)
    return data
