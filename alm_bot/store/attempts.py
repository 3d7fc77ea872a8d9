"""Delivery attempts whose outcome is unknown: the outbox's "attempt started" marker.

A notice is posted to Slack outside any transaction. If the process dies while the call is in
flight, or the call times out, Slack may have the message although the row is not marked sent.
So a delivery first records when its attempt started (``outbox.attempt_started_at``, kept if an
earlier unknown attempt already set it), and clears it when Slack answered that it posted
nothing. A later attempt that finds the marker set knows it must ask Slack before posting again,
and since when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa

from alm_bot.store.repository import Store
from alm_bot.store.tables import metadata

__all__ = ["Attempt", "begin_attempt", "note_upload", "settle_attempt"]

_OUTBOX: Final = metadata.tables["outbox"]


@dataclass(frozen=True)
class Attempt:
    """The notice being delivered: its dedupe key, since when an earlier attempt's outcome is unknown,
    and the Slack files earlier attempts uploaded for it (`note_upload`)."""

    dedupe_key: str
    unknown_since: datetime | None
    uploads: tuple[str, ...] = ()


async def begin_attempt(store: Store, row_id: int, now: datetime) -> Attempt | None:
    """Mark an attempt of row ``row_id`` as started at ``now``; None if the row is gone or sent."""
    unsent = [_OUTBOX.c.id == row_id, _OUTBOX.c.sent_at.is_(None)]
    async with store.transaction() as tx:
        connection = tx._connection
        columns = (_OUTBOX.c.dedupe_key, _OUTBOX.c.attempt_started_at, _OUTBOX.c.receipt)
        row = (await connection.execute(sa.select(*columns).where(*unsent))).first()
        if row is None:
            return None
        if row.attempt_started_at is None:
            await connection.execute(sa.update(_OUTBOX).where(*unsent).values(attempt_started_at=now))
        return Attempt(row.dedupe_key, row.attempt_started_at, _uploads(row.receipt))


async def note_upload(store: Store, row_id: int, file_id: str) -> None:
    """Slack handed out file ``file_id`` for row ``row_id``: remember it before the file is shared.

    A file carries no message metadata, so its id is what a later attempt looks for in the channel.
    Until the row is sent its receipt holds only these ids; `mark_sent` replaces it.
    """
    unsent = [_OUTBOX.c.id == row_id, _OUTBOX.c.sent_at.is_(None)]
    async with store.transaction() as tx:
        connection = tx._connection
        receipt = (await connection.execute(sa.select(_OUTBOX.c.receipt).where(*unsent))).scalar()
        uploads = [*_uploads(receipt), file_id]
        await connection.execute(sa.update(_OUTBOX).where(*unsent).values(receipt={"uploads": uploads}))


def _uploads(receipt: object) -> tuple[str, ...]:
    found = receipt.get("uploads") if isinstance(receipt, dict) else None
    return tuple(str(f) for f in found) if isinstance(found, list) else ()


async def settle_attempt(store: Store, row_id: int) -> None:
    """Slack answered that nothing was posted: no attempt of this row has an unknown outcome now."""
    async with store.transaction() as tx:
        clear = sa.update(_OUTBOX).where(_OUTBOX.c.id == row_id, _OUTBOX.c.sent_at.is_(None))
        await tx._connection.execute(clear.values(attempt_started_at=None))
