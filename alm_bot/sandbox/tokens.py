"""Auth-service sessions: issue, look up, refresh and log out tokens; read API Authorization headers.

A session lives ``token_ttl`` seconds of sandbox time (35 minutes by default, reference §2.3).
Refresh extends the same session and keeps its ``tokenValue`` and ``refreshTokenId``, as observed
live. The API accepts both ``AnaplanAuthToken <t>`` and ``Bearer <t>`` (reference §1.1).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from alm_bot.sandbox.state import User

__all__ = ["Session", "TokenStore", "split_authorization"]


@dataclass
class Session:
    token_id: str
    token_value: str
    refresh_token_id: str
    user: User
    expires_at: float
    refresh_token: str
    """The ``refreshToken`` Anaplan announced for authenticate answers ("in preparation for JWT")."""


def split_authorization(header: str) -> tuple[str, str]:
    """``"Scheme value"`` → (scheme, value); either may be empty."""
    scheme, _, value = header.strip().partition(" ")
    return scheme, value.strip()


class TokenStore:
    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._sessions: dict[str, Session] = {}

    def issue(self, user: User, now: float, ttl: float | None = None) -> Session:
        """A new session; ``ttl`` overrides the auth service's lifetime (OAuth access tokens)."""
        value = f"{secrets.token_urlsafe(24)}.{secrets.token_urlsafe(32)}"
        lifetime = self.ttl if ttl is None else ttl
        session = Session(
            str(uuid.uuid4()), value, str(uuid.uuid4()), user, now + lifetime, secrets.token_urlsafe(32)
        )
        self._sessions[value] = session
        return session

    def find(self, token_value: str, now: float) -> Session | None:
        """The live session for this token; expired and logged-out tokens are gone."""
        session = self._sessions.get(token_value)
        if session is None:
            return None
        if session.expires_at <= now:
            del self._sessions[token_value]
            return None
        return session

    def refresh(self, session: Session, now: float) -> None:
        session.expires_at = now + self.ttl

    def logout(self, session: Session) -> None:
        self._sessions.pop(session.token_value, None)

    def api_user(self, authorization: str, now: float) -> User | None:
        """The user behind an API call's Authorization header, or None (→ 401)."""
        scheme, value = split_authorization(authorization)
        if scheme not in ("AnaplanAuthToken", "Bearer") or not value:
            return None
        session = self.find(value, now)
        return session.user if session else None
