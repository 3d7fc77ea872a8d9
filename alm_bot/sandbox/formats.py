"""Anaplan's identifier and timestamp formats (reference §1.4), in one place.

- model, revision and task ids: 32 uppercase hex; workspace and user ids: 32 lowercase hex;
- revision ``createdOn``/``appliedOn``: ISO-8601 UTC to the second (``2021-03-10T11:31:08Z``);
- model ``isoCreationDate``/``lastModified``: ``2017-11-13T21:20:10.000+0000``;
- task ``creationTime`` and auth ``expiresAt``: integer epoch milliseconds.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

__all__ = [
    "epoch_ms",
    "iso_second",
    "iso_timestamp",
    "model_date",
    "new_guid",
    "new_id",
    "parse_iso_second",
]


def new_id() -> str:
    """A fresh model/revision/task id: 32 uppercase hex, unique even within one instant."""
    return uuid.uuid4().hex.upper()


def new_guid() -> str:
    """A fresh workspace/user-style id: 32 lowercase hex."""
    return uuid.uuid4().hex


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)


def iso_second(ts: float) -> str:
    return _utc(ts).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso_second(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp()


def model_date(ts: float) -> str:
    moment = _utc(ts)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def iso_timestamp(ts: float) -> str:
    """The ``timestamp`` of an error body (Integration API style, milliseconds)."""
    moment = _utc(ts)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def epoch_ms(ts: float) -> int:
    return round(ts * 1000)
