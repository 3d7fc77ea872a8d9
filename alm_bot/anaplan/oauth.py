"""OAuth 2.0 for Anaplan (reference §2.4): the stored grant, and keeping its access token fresh.

Anaplan's OAuth service lives on ``{region}.app.anaplan.com`` (``/oauth/device/code``,
``/oauth/token``). Access tokens last about 35 minutes; refresh tokens **rotate**: each refresh
returns a new refresh token and the old one stops working. So the refresh token is state that must
be kept — and shared, when several replicas run — which is what a ``GrantStore`` does:

- ``load()`` returns the current ``StoredGrant`` (with a ``version``), or None before the first
  ``alm-bot anaplan login``;
- ``replace(grant, expected_version)`` writes a new grant only if the stored version is still the
  expected one (compare-and-set) and returns the stored result, or None when another replica won.

``OAuthSession.access_token`` is what the token keeper calls to log in. It first reuses the stored
access token while it is fresh (replicas share it, so they do not rotate the refresh token in turn),
else refreshes and stores the rotated grant atomically. Two replicas that refresh at once: Anaplan
accepts one refresh token once, the loser's ``invalid_grant`` sends it back to the store, where the
winner's grant already is (or will be a moment later: the winner stores it right after Anaplan's
answer, so the loser looks again for a few seconds). Only when the store still holds the refused
token then is it really revoked or expired: ``LoginRequired`` says to run ``alm-bot anaplan login``
again, and until the store changes every further call fails at once with it (no retry storm).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final, Protocol

import anyio
import httpx2
from pydantic import SecretStr

from alm_bot.anaplan.models import AnaplanModel
from alm_bot.errors import AnaplanUnavailable, AuthenticationFailed, LoginRequired

__all__ = [
    "DEFAULT_OAUTH_URL",
    "FormSend",
    "GrantStore",
    "OAuthAuth",
    "OAuthSession",
    "StoredGrant",
    "TokenGrant",
    "parse_token_answer",
]

_log = logging.getLogger("alm_bot.anaplan")

DEFAULT_OAUTH_URL: Final = "https://us1a.app.anaplan.com"
_TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a URL path, not a secret
_REUSE_MARGIN: Final = 300.0  # a stored access token with less life than this is refreshed instead
_RECHECK_STORE_AFTER: Final = 30.0  # after LoginRequired, look at the store again only this often
_WINNER_GRACE: Final = (0.5, 1.0, 2.0)  # waits for a replica that won the rotation to store its grant
_RELOGIN: Final = (
    "Anaplan no longer accepts alm-bot's OAuth refresh token (it was revoked, expired, or already "
    "used). Run `alm-bot anaplan login` again."
)


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What ``/oauth/token`` answered: an access token, its expiry (epoch seconds), a refresh token."""

    access_token: SecretStr
    refresh_token: SecretStr
    expires_at: float


@dataclass(frozen=True, slots=True)
class StoredGrant:
    grant: TokenGrant
    version: int


class GrantStore(Protocol):
    """Where the rotating refresh token lives (see the module docstring)."""

    async def load(self) -> StoredGrant | None: ...

    async def replace(self, grant: TokenGrant, expected_version: int | None) -> StoredGrant | None: ...


FormSend = Callable[[str, str, dict[str, str]], Awaitable[httpx2.Response]]
"""Sends one form-encoded POST (url, path for logs, fields) without a token."""


class _TokenAnswer(AnaplanModel):
    access_token: str
    refresh_token: str | None = None
    expires_in: float = 2100.0


class _ErrorAnswer(AnaplanModel):
    error: str = ""
    error_description: str = ""


def oauth_error(response: httpx2.Response) -> str:
    """The RFC 6749 ``error`` code of an OAuth error answer, or ""."""
    try:
        return _ErrorAnswer.model_validate_json(response.content).error
    except ValueError:
        return ""


def parse_token_answer(
    response: httpx2.Response, now: float, previous_refresh: SecretStr | None
) -> TokenGrant:
    """A successful ``/oauth/token`` answer; a refresh without a new refresh token keeps the old one."""
    try:
        answer = _TokenAnswer.model_validate_json(response.content)
    except ValueError:
        raise AuthenticationFailed(
            "Anaplan's OAuth service answered without an access token. Try again later.", path=_TOKEN_PATH
        ) from None
    refresh = SecretStr(answer.refresh_token) if answer.refresh_token else previous_refresh
    if refresh is None:
        raise AuthenticationFailed(
            "Anaplan's OAuth service issued no refresh token: the OAuth client must allow "
            "offline_access (refresh tokens).",
            path=_TOKEN_PATH,
        )
    return TokenGrant(SecretStr(answer.access_token), refresh, now + answer.expires_in)


class OAuthAuth:
    """Log in with an OAuth client and the refresh token in ``store`` (from ``alm-bot anaplan login``)."""

    __slots__ = ("client_id", "client_secret", "oauth_url", "store")

    def __init__(
        self,
        client_id: str,
        store: GrantStore,
        *,
        oauth_url: str = DEFAULT_OAUTH_URL,
        client_secret: str | SecretStr | None = None,
    ) -> None:
        self.client_id = client_id
        self.store = store
        self.oauth_url = oauth_url.rstrip("/")
        self.client_secret = SecretStr(client_secret) if isinstance(client_secret, str) else client_secret

    def client_fields(self) -> dict[str, str]:
        fields = {"client_id": self.client_id}
        if self.client_secret is not None:
            fields["client_secret"] = self.client_secret.get_secret_value()
        return fields

    def describe(self) -> str:
        return f"OAuth client {self.client_id!r}"

    def __repr__(self) -> str:
        return f"OAuthAuth(client_id={self.client_id!r}, oauth_url={self.oauth_url!r})"


class OAuthSession:
    """Turns the stored grant into a fresh access token (one per ``TokenKeeper``; renewal is single-flight
    there, so this class needs no lock of its own)."""

    def __init__(
        self,
        auth: OAuthAuth,
        send: FormSend,
        *,
        sleep: Callable[[float], Awaitable[object]] = anyio.sleep,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._auth = auth
        self._send = send
        self._sleep = sleep
        self._now = wall_clock
        self._refused_version: int | None = None
        self._recheck_at = -math.inf

    async def access_token(self, *, rejected: str | None = None) -> tuple[str, float]:
        """A usable access token and its expiry (epoch seconds). ``rejected``: the API refused this one."""
        if self._refused_version is not None and self._now() < self._recheck_at:
            raise LoginRequired(_RELOGIN, status=400, path=_TOKEN_PATH)
        stored = await self._auth.store.load()
        if stored is None:
            raise LoginRequired(
                "alm-bot has no Anaplan OAuth login yet. Run `alm-bot anaplan login` once.", path=_TOKEN_PATH
            )
        if stored.version == self._refused_version:
            self._recheck_at = self._now() + _RECHECK_STORE_AFTER
            raise LoginRequired(_RELOGIN, status=400, path=_TOKEN_PATH)
        self._refused_version = None
        grant = stored.grant
        if (
            grant.expires_at - self._now() > _REUSE_MARGIN
            and grant.access_token.get_secret_value() != rejected
        ):
            return grant.access_token.get_secret_value(), grant.expires_at
        return await self._refresh(stored)

    async def _refresh(self, stored: StoredGrant) -> tuple[str, float]:
        fields = {
            "grant_type": "refresh_token",
            "refresh_token": stored.grant.refresh_token.get_secret_value(),
            **self._auth.client_fields(),
        }
        try:
            response = await self._send(f"{self._auth.oauth_url}{_TOKEN_PATH}", _TOKEN_PATH, fields)
        except httpx2.TransportError as exc:
            raise AnaplanUnavailable(
                f"Could not reach Anaplan's OAuth service ({type(exc).__name__}). "
                "Try again in a few minutes.",
                path=_TOKEN_PATH,
            ) from exc
        if response.status_code in (400, 401) and oauth_error(response) in ("invalid_grant", "invalid_token"):
            return await self._after_refused(stored)
        if not response.is_success:
            raise AuthenticationFailed(
                f"Anaplan's OAuth service refused to refresh the token (HTTP {response.status_code}, "
                f"{oauth_error(response) or 'no reason given'}). Check ANAPLAN_OAUTH_CLIENT_ID.",
                status=response.status_code,
                path=_TOKEN_PATH,
            )
        grant = parse_token_answer(response, self._now(), stored.grant.refresh_token)
        saved = await self._auth.store.replace(grant, stored.version)
        if saved is None:
            _log.info(
                "Another alm-bot stored a newer Anaplan OAuth grant meanwhile; keeping both access tokens"
            )
        else:
            _log.info(
                "Anaplan OAuth token refreshed; the rotated refresh token is stored (version %d)",
                saved.version,
            )
        return grant.access_token.get_secret_value(), grant.expires_at

    async def _after_refused(self, stored: StoredGrant) -> tuple[str, float]:
        """``invalid_grant``: another replica may have rotated the token first — look before giving up."""
        for wait in (0.0, *_WINNER_GRACE):
            await self._sleep(wait)
            now_stored = await self._auth.store.load()
            if now_stored is not None and now_stored.version != stored.version:
                grant = now_stored.grant
                if grant.expires_at - self._now() > _REUSE_MARGIN:
                    return grant.access_token.get_secret_value(), grant.expires_at
                return await self._refresh(now_stored)
        self._refused_version = stored.version
        self._recheck_at = self._now() + _RECHECK_STORE_AFTER
        _log.error("%s", _RELOGIN)
        raise LoginRequired(_RELOGIN, status=400, path=_TOKEN_PATH)
