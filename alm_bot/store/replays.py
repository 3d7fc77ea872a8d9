"""Signed requests already seen: the store behind the Slack edge's replay guard.

Slack signs each request with its timestamp; a signature stays valid for Slack's 5-minute window,
so the same bytes sent again inside it would verify again. `ReplayGuard.first_sighting` records
``(signature, timestamp)`` under a unique key: the first sighting wins, any later one (a replay, by
Slack or by someone who saw the request) finds the key taken. The table lives in the database, so
every replica shares it. Rows are kept until the window has passed (``expires_at``) and deleted
after that, at most once a minute per process.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Final

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from alm_bot.store.repository import Store
from alm_bot.store.tables import UtcDateTime, metadata, utcnow

__all__ = ["ReplayGuard", "SeenRequest"]

_CLEANUP_SECONDS: Final = 60.0


class SeenRequest(SQLModel, table=True):
    """One signed request that was acted on, remembered until its signature can no longer verify."""

    __tablename__ = "seen_request"
    __table_args__ = (sa.Index("ix_seen_request_expires_at", "expires_at"),)

    signature: str = Field(primary_key=True)
    timestamp: int = Field(primary_key=True, sa_type=sa.BigInteger)
    expires_at: datetime = Field(sa_type=UtcDateTime)


_SEEN: Final = metadata.tables["seen_request"]


class ReplayGuard:
    """Answers "is this the first time this signed request arrives?" for every replica alike."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._cleaned_at: float | None = None

    async def first_sighting(self, signature: str, timestamp: int, expires_at: datetime) -> bool:
        """Record the request; False if it was recorded before (a replay). `StoreUnavailable` if down."""
        values = {"signature": signature, "timestamp": timestamp, "expires_at": expires_at}
        async with self._store.transaction() as tx:
            if self._cleanup_due():
                await tx._connection.execute(sa.delete(_SEEN).where(_SEEN.c.expires_at < utcnow()))
            return await tx._insert_new(_SEEN, values, ["signature", "timestamp"]) is not None

    def _cleanup_due(self) -> bool:
        now = time.monotonic()
        if self._cleaned_at is not None and now - self._cleaned_at < _CLEANUP_SECONDS:
            return False
        self._cleaned_at = now
        return True
