"""The four main tables of alm-bot's state, as SQLModel classes, and the column types they share.

Rows read from the store are detached snapshots: change them only through the repository
(``alm_bot.store.transaction``), which does every change as one compare-and-set statement.
The schema itself is created by the Alembic migrations in ``alm_bot/migrations``; a test keeps
these classes and the migrations equal.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel

from alm_bot.actor import Origin
from alm_bot.records import NoticePayload, Plan, StartIntent, SyncPlan, TaskOutcome, WindowHold
from alm_bot.store.states import Operation, RequestState, TaskKind, TaskState

__all__ = [
    "ApprovalRequest",
    "AuditEvent",
    "JsonRecord",
    "OutboxRow",
    "TrackedTask",
    "UtcDateTime",
    "metadata",
    "new_request_id",
    "normalise_request_id",
    "utcnow",
]

metadata: Final = SQLModel.metadata

# Crockford base32: no I, L, O, U, so ids survive being read aloud and retyped.
_CROCKFORD: Final = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_CONFUSABLE: Final = str.maketrans({"O": "0", "I": "1", "L": "1"})
_JSON: Final = sa.JSON(none_as_null=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_request_id() -> str:
    """``R`` + 6 random Crockford base32 characters (about 10⁹ ids; the primary key catches repeats)."""
    return "R" + "".join(secrets.choice(_CROCKFORD) for _ in range(6))


def normalise_request_id(text: str) -> str:
    """What a person typed → the stored id: trimmed, upper case, O→0 and I/L→1 after the ``R``."""
    cleaned = text.strip().upper()
    if not cleaned.startswith("R"):
        return cleaned
    return "R" + cleaned[1:].translate(_CONFUSABLE)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect.

    SQLite has no time zones: it stores the UTC wall time and gets ``tzinfo=UTC`` re-attached on
    the way out. Naive datetimes are refused, because their meaning depends on the host.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (datetime.now(UTC))")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JsonRecord(sa.TypeDecorator[Any]):
    """A typed record (``alm_bot.records``) stored as JSON, validated on the way in and on the way out.

    Writing accepts the record or its plain-data form (both are validated); reading returns the
    record, so no caller ever looks into the JSON itself.
    """

    impl = sa.JSON(none_as_null=True)
    cache_ok = True

    def __init__(self, record: Any) -> None:
        super().__init__()
        self.record = record
        self._adapter: TypeAdapter[Any] = TypeAdapter(record)

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self._adapter.dump_python(self._adapter.validate_python(value), mode="json", exclude_none=True)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self._adapter.validate_python(value)


def _when(*, nullable: bool = False) -> Any:
    if nullable:
        return Field(default=None, sa_type=UtcDateTime)
    return Field(default_factory=utcnow, sa_type=UtcDateTime)


def _serial() -> Any:
    # Typed ``int``: every row read from the store has its id; only a row not yet inserted has None.
    return Field(default=None, primary_key=True)


class ApprovalRequest(SQLModel, table=True):
    """A requested change (sync or status change) and its way through the state machine."""

    __tablename__ = "approval_request"
    __table_args__ = (
        sa.Index("ix_approval_request_state_expires_at", "state", "expires_at"),
        sa.Index("ix_approval_request_card_ref", "card_ref"),
        sa.Index("ix_approval_request_state_lease_expires_at", "state", "lease_expires_at"),
        sa.Index("uq_approval_request_anaplan_task_id", "anaplan_task_id", unique=True),
        sa.Index("ix_approval_request_requester_id", "requester_id"),
        sa.Index("ix_approval_request_target_model_id", "target_model_id"),
        sa.Index("ix_approval_request_created_at", "created_at"),
    )

    id: str = Field(default_factory=new_request_id, primary_key=True)
    operation: Operation = Field(sa_type=sa.String)
    parameters: dict[str, Any] = Field(default_factory=dict, sa_type=_JSON)
    plan: Plan = Field(sa_type=JsonRecord(Plan))
    target_model_id: str
    requester_id: str
    requester_name: str
    origin: Origin = Field(sa_type=sa.String)
    state: RequestState = Field(default="requested", sa_type=sa.String)
    decided_by_id: str | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = _when(nullable=True)
    reason: str | None = None
    created_at: datetime = _when()
    expires_at: datetime | None = _when(nullable=True)
    # Where the notifier shows the request (e.g. its approval card): opaque to the core, which only
    # stores it and finds the request by it.
    card_ref: str | None = None
    # Unique: an Anaplan task belongs to one request at most.
    anaplan_task_id: str | None = None
    result: TaskOutcome | None = Field(default=None, sa_type=JsonRecord(TaskOutcome))
    updated_at: datetime = _when()
    # The executor working on an approved/executing request holds this lease and renews it; an
    # expired lease means it is gone, and the watcher settles the request (see operations.execution).
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when(nullable=True)
    # The last moment this request may stay unsettled before it is failed with the reason.
    deadline_at: datetime | None = _when(nullable=True)
    attempts: int = 0  # how often the watcher has tried to settle it
    # Recorded in the transaction that moves the request to executing, before the sync POST.
    start_intent: StartIntent | None = Field(default=None, sa_type=JsonRecord(StartIntent))
    # A scheduled request: when its change window lets it start, and why it waits (or who overrode).
    runs_at: datetime | None = _when(nullable=True)
    window: WindowHold | None = Field(default=None, sa_type=JsonRecord(WindowHold))


class TrackedTask(SQLModel, table=True):
    """An Anaplan task the watcher polls until it finishes; leased to one poller at a time."""

    __tablename__ = "tracked_task"
    __table_args__ = (
        sa.UniqueConstraint("kind", "model_id", "anaplan_task_id", name="uq_tracked_task_kind_model_task"),
        sa.Index("ix_tracked_task_state_next_poll_at", "state", "next_poll_at"),
        sa.Index("ix_tracked_task_request_id", "request_id"),
    )

    id: int = _serial()
    kind: TaskKind = Field(sa_type=sa.String)
    model_id: str
    anaplan_task_id: str
    request_id: str | None = Field(default=None, foreign_key="approval_request.id")
    state: TaskState = Field(default="active", sa_type=sa.String)
    next_poll_at: datetime = _when()
    poll_interval_seconds: float = 1.0
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when(nullable=True)
    attempts: int = 0
    last_step: str | None = None
    result: TaskOutcome | None = Field(default=None, sa_type=JsonRecord(TaskOutcome))
    notify: str | None = None  # where to tell the result (e.g. "user:U123"), if anyone asked
    context: SyncPlan | None = Field(default=None, sa_type=JsonRecord(SyncPlan))
    created_at: datetime = _when()
    finished_at: datetime | None = _when(nullable=True)


class OutboxRow(SQLModel, table=True):
    """A notice to deliver (Slack post, card update, DM) at least once, deduplicated by key."""

    __tablename__ = "outbox"
    __table_args__ = (
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
        sa.Index("ix_outbox_sent_at_next_attempt_at", "sent_at", "next_attempt_at"),
    )

    id: int = _serial()
    kind: str
    destination: str
    payload: NoticePayload = Field(sa_type=JsonRecord(NoticePayload))
    dedupe_key: str
    attempts: int = 0
    # None = never retried (given up); see Store.mark_failed.
    next_attempt_at: datetime | None = _when()
    lease_owner: str | None = None
    lease_expires_at: datetime | None = _when(nullable=True)
    sent_at: datetime | None = _when(nullable=True)
    receipt: dict[str, Any] | None = Field(default=None, sa_type=_JSON)
    last_error: str | None = None
    created_at: datetime = _when()
    # Set when a delivery attempt starts, cleared when Slack says it posted nothing: while set, an
    # attempt's outcome is unknown (see alm_bot.store.attempts).
    attempt_started_at: datetime | None = _when(nullable=True)


class AuditEvent(SQLModel, table=True):
    """One recorded step. Append-only: database triggers refuse UPDATE and DELETE.

    ``prev_hash``/``hash`` chain the events (``alm_bot.store.chain``): each hash covers the event's
    content and the previous event's hash, so an edited, removed or reordered row shows.

    ``request_id`` has no foreign key on purpose: the log must accept any event, even about a
    request id that does not exist (a refused attempt).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_request_id", "request_id"),
        sa.Index("ix_audit_event_model_id", "model_id"),
        sa.Index("ix_audit_event_at", "at"),
        sa.Index("uq_audit_event_prev_hash", "prev_hash", unique=True),
        sa.Index("uq_audit_event_hash", "hash", unique=True),
    )

    id: int = _serial()
    at: datetime = _when()
    request_id: str | None = None
    model_id: str | None = None
    actor_id: str | None = None
    actor_name: str | None = None
    origin: Origin | None = Field(default=None, sa_type=sa.String)
    action: str
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=_JSON)
    prev_hash: str | None = None  # None only on a row nobody chained (verify reports it as edited)
    hash: str | None = None
