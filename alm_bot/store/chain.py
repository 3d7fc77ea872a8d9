"""The audit log's hash chain: each event stores a hash over its content and the previous event's hash.

Appending is serialised through one row, ``audit_chain`` (the head: the newest hash and the length).
Every append updates that row first, so the database holds its lock until the transaction commits:
on PostgreSQL a second replica's append waits there and then reads the head the first one wrote
(an ``UPDATE`` re-reads the newest committed row after waiting); on SQLite, write transactions
already hold the file's write lock (``BEGIN IMMEDIATE``). ``audit_event.prev_hash`` is unique too,
so even a bug that skipped the lock could not fork the chain: the second insert would fail.

Chain order is ``audit_event.id`` order: ids are drawn while the head is locked, so they follow
the chain. `verify` walks the events in that order and names the first one that was edited,
removed or reordered, and checks the head (the newest events removed).

The content hashed is `canonical` (JSON with sorted keys): the moment (UTC, microseconds), request,
model, actor, origin, action and detail, with the previous hash. Migration 0008 holds a frozen copy
of the same function to backfill rows written before the chain.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import Field, SQLModel

__all__ = [
    "CHAIN_NAME",
    "GENESIS",
    "AuditChain",
    "ChainProblem",
    "ChainReport",
    "append_event",
    "canonical",
    "event_hash",
    "verify",
]

GENESIS: Final = "0" * 64
"""The ``prev_hash`` of the first event."""
CHAIN_NAME: Final = "audit"
_BATCH: Final = 1000
_HASHED: Final = ("at", "request_id", "model_id", "actor_id", "actor_name", "origin", "action", "detail")


class AuditChain(SQLModel, table=True):
    """The head of the audit chain: one row, locked by every append until its transaction commits."""

    __tablename__ = "audit_chain"

    name: str = Field(primary_key=True)
    head_hash: str
    length: int = 0
    head_event_id: int | None = None


def _moment(value: datetime) -> str:
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def canonical(event: Mapping[str, Any], prev_hash: str) -> str:
    """The exact text hashed for an event: its content and ``prev_hash``, as sorted, compact JSON."""
    content = {key: event.get(key) for key in _HASHED}
    content["at"] = _moment(event["at"])
    content["detail"] = event.get("detail") or {}
    content["prev_hash"] = prev_hash
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_hash(event: Mapping[str, Any], prev_hash: str) -> str:
    """SHA-256 (hex) of `canonical`."""
    return hashlib.sha256(canonical(event, prev_hash).encode("utf-8")).hexdigest()


async def append_event(connection: AsyncConnection, values: Mapping[str, Any]) -> int:
    """Insert one audit event at the end of the chain (inside the caller's transaction); its id."""
    audit = SQLModel.metadata.tables["audit_event"]
    head = await _lock_head(connection)
    # The detail as it will read back (tuples become lists): the hash must match what verify reads.
    stored = dict(values) | {"detail": json.loads(json.dumps(values.get("detail") or {}))}
    digest = event_hash(stored, head)
    inserted = await connection.execute(
        sa.insert(audit).values(**stored, prev_hash=head, hash=digest).returning(audit.c.id)
    )
    event_id = int(inserted.scalar_one())
    chain = AuditChain.__table__  # type: ignore[attr-defined]
    await connection.execute(
        sa.update(chain).where(chain.c.name == CHAIN_NAME).values(head_hash=digest, head_event_id=event_id)
    )
    return event_id


async def _lock_head(connection: AsyncConnection) -> str:
    """Lock the head row (create it for an empty log) and return the newest hash."""
    chain = AuditChain.__table__  # type: ignore[attr-defined]
    bump = (
        sa.update(chain)
        .where(chain.c.name == CHAIN_NAME)
        .values(length=chain.c.length + 1)
        .returning(chain.c.head_hash)
    )
    head = (await connection.execute(bump)).scalar_one_or_none()
    if head is not None:
        return str(head)
    # Only a database whose head row is gone gets here (migration 0008 writes it): carry on from the
    # newest event, so appends keep working (a second genesis would break the unique prev_hash).
    audit = SQLModel.metadata.tables["audit_event"]
    last = sa.select(audit.c.id, audit.c.hash).order_by(audit.c.id.desc()).limit(1)
    newest = (await connection.execute(last)).first()
    count = (await connection.execute(sa.select(sa.func.count()).select_from(audit))).scalar_one()
    values = {
        "name": CHAIN_NAME,
        "head_hash": (newest.hash if newest is not None else None) or GENESIS,
        "length": count,
        "head_event_id": newest.id if newest is not None else None,
    }
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    await connection.execute(insert(chain).values(**values).on_conflict_do_nothing())
    return await _lock_head(connection)


# --- verification ---------------------------------------------------------------------------------

ProblemKind = Literal["edited", "removed", "reordered", "newest_removed"]


@dataclass(frozen=True)
class ChainProblem:
    """The first break in the chain: which event, and how it was found.

    - ``edited``: the event's content (or its stored hashes) no longer gives its hash;
    - ``removed``: the event's predecessor is missing (``after_id``: the last intact one before it);
    - ``reordered``: its predecessor exists, but elsewhere (``predecessor_id``);
    - ``newest_removed``: the head recorded ``head_length`` events ending in ``after_id``'s
      successor; the newest ones are gone (``event_id`` is the last one left).
    """

    kind: ProblemKind
    event_id: int | None
    after_id: int | None = None
    predecessor_id: int | None = None
    head_length: int | None = None


@dataclass(frozen=True)
class ChainReport:
    """What `verify` found: ``events`` walked, the head hash, and the first problem (None: intact)."""

    events: int
    head_hash: str
    problem: ChainProblem | None

    @property
    def intact(self) -> bool:
        return self.problem is None


async def verify(connection: AsyncConnection) -> ChainReport:
    """Walk the whole chain in id order; stop at the first problem."""
    audit = SQLModel.metadata.tables["audit_event"]
    expected, last_id, count = GENESIS, None, 0
    while True:
        query = sa.select(audit).order_by(audit.c.id).limit(_BATCH)
        if last_id is not None:
            query = query.where(audit.c.id > last_id)
        rows = [dict(row._mapping) for row in await connection.execute(query)]
        for row in rows:
            problem = await _check(connection, row, expected, last_id)
            if problem is not None:
                return ChainReport(count, expected, problem)
            expected, last_id, count = row["hash"], row["id"], count + 1
        if len(rows) < _BATCH:
            break
    return ChainReport(count, expected, await _check_head(connection, expected, last_id, count))


async def _check(
    connection: AsyncConnection, row: dict[str, Any], expected: str, last_id: int | None
) -> ChainProblem | None:
    if row.get("hash") is None or event_hash(row, row.get("prev_hash") or "") != row["hash"]:
        return ChainProblem("edited", row["id"])
    if row["prev_hash"] == expected:
        return None
    audit = SQLModel.metadata.tables["audit_event"]
    query = sa.select(audit.c.id).where(audit.c.hash == row["prev_hash"]).limit(1)
    found = (await connection.execute(query)).scalar_one_or_none()
    if found is not None:
        return ChainProblem("reordered", row["id"], after_id=last_id, predecessor_id=int(found))
    return ChainProblem("removed", row["id"], after_id=last_id)


async def _check_head(
    connection: AsyncConnection, last_hash: str, last_id: int | None, count: int
) -> ChainProblem | None:
    chain = AuditChain.__table__  # type: ignore[attr-defined]
    query = sa.select(chain.c.head_hash, chain.c.length).where(chain.c.name == CHAIN_NAME)
    head = (await connection.execute(query)).first()
    if head is None:
        return None if count == 0 else ChainProblem("newest_removed", last_id, head_length=0)
    if head.head_hash != last_hash or head.length != count:
        return ChainProblem("newest_removed", last_id, head_length=int(head.length))
    return None
