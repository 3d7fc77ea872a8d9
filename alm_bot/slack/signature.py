"""Slack's request signature (scheme ``v0``), checked on the raw bytes before anything reads them.

``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing secret, b"v0:" + timestamp + b":" + body))``
and ``X-Slack-Request-Timestamp`` must be within `WINDOW_SECONDS` of now. Stricter than Slack's SDK on
purpose: the timestamp must be a plain integer (``abc``, ``1796189588.5`` or an empty one fail) and
the signature lower-case hex, so one request has exactly one spelling — the replay guard keys on it.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Final

__all__ = ["WINDOW_SECONDS", "Signed", "verify"]

WINDOW_SECONDS: Final = 300  # Slack's own: a request older (or newer) than 5 minutes is refused
_TIMESTAMP: Final = re.compile(r"[0-9]{1,12}", re.ASCII)
_SIGNATURE: Final = re.compile(r"v0=[0-9a-f]{64}", re.ASCII)


@dataclass(frozen=True)
class Signed:
    """A request whose signature verified: when Slack signed it, and the signature itself."""

    timestamp: int
    signature: str

    @property
    def valid_until(self) -> int:
        """The last second (Unix time) at which the same bytes would verify again."""
        return self.timestamp + WINDOW_SECONDS


def verify(
    body: bytes, timestamp: str | None, signature: str | None, secret: str, *, now: float
) -> Signed | None:
    """The request's `Signed` if ``signature`` is Slack's for ``body`` at ``timestamp``, else None."""
    if not secret or timestamp is None or signature is None:
        return None
    if not _TIMESTAMP.fullmatch(timestamp) or not _SIGNATURE.fullmatch(signature):
        return None
    stamp = int(timestamp)
    if abs(now - stamp) > WINDOW_SECONDS:
        return None
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return None
    return Signed(stamp, signature)
