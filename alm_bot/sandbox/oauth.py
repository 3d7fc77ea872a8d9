"""The OAuth 2.0 service's state (reference §2.4): device codes and rotating refresh tokens.

The routes are in ``routes_oauth``.

Served on the same host as everything else, like ``{region}.app.anaplan.com`` (point
``ANAPLAN_OAUTH_URL`` at the sandbox's base URL). Form-encoded requests, JSON answers, errors as
RFC 6749/8628 ``{"error", "error_description"}``:

- ``POST /oauth/device/code`` ``client_id`` → ``device_code``, ``user_code``, ``verification_uri``
  (+ ``_complete``), ``expires_in`` 600, ``interval`` 5. Only ``seed.OAUTH_CLIENT_ID`` is registered.
- The person "approves in the browser" through the control endpoint ``POST /_sandbox/oauth/approve``
  ``{"user_code", "email"}``.
- ``POST /oauth/token``: ``grant_type=urn:ietf:params:oauth:grant-type:device_code`` answers
  ``authorization_pending`` until approved, ``expired_token`` after 10 minutes, then (once) the tokens;
  ``grant_type=refresh_token`` **rotates**: a new refresh token each time, the old one answers
  ``invalid_grant`` from then on. Access tokens last 2100 s (35 min, as measured live) and work on
  the API with ``AnaplanAuthToken`` or ``Bearer``; refresh tokens expire after 30 days unused.
- ``POST /oauth/revoke`` ``token`` (RFC 7009; Anaplan's revocation path is not documented) → 200.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Final

from alm_bot.sandbox.state import User

__all__ = ["ACCESS_TTL", "DEVICE_GRANT", "DeviceCode", "OAuthService", "new_user_code"]

ACCESS_TTL: Final = 2100.0
DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
_REFRESH_TTL: Final = 30 * 86400.0


@dataclass
class DeviceCode:
    """A device login in progress: approved once a user is set."""

    device_code: str
    user_code: str
    client_id: str
    expires_at: float
    user: User | None = None
    used: bool = False


@dataclass
class OAuthService:
    """The registered clients, pending device codes and live refresh tokens of the tenant."""

    clients: frozenset[str]
    devices: dict[str, DeviceCode] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[User, str, float]] = field(default_factory=dict)
    """refresh token → (user, client id, expiry)."""

    def approve(self, user_code: str, user: User, now: float) -> bool:
        found = next((d for d in self.devices.values() if d.user_code == user_code), None)
        if found is None or found.expires_at <= now:
            return False
        found.user = user
        return True

    def issue_refresh(self, user: User, client_id: str, now: float) -> str:
        token = secrets.token_urlsafe(32)
        self.refresh_tokens[token] = (user, client_id, now + _REFRESH_TTL)
        return token


def new_user_code() -> str:
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    picked = "".join(secrets.choice(letters) for _ in range(8))
    return f"{picked[:4]}-{picked[4:]}"
