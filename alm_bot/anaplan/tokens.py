"""The Anaplan auth token: obtain it, renew it before it expires, and never renew it twice at once.

``TokenKeeper.current()`` is the hot path of every API call: one clock read and one comparison, no
lock. Renewal (``/token/refresh`` shortly before ``expiresAt``, a fresh ``/token/authenticate`` when the
refresh is refused or the API answered 401) is single-flight: an ``anyio.Lock`` is held only around the
renewal itself, and a *generation* counter lets every waiter see that someone else already renewed,
so ten requests that find the token expired cause exactly one renewal. While a proactive renewal is
in flight, requests keep using the old token as long as it has not actually expired.

With OAuth credentials, "log in" and "refresh" both mean asking the ``OAuthSession`` (``oauth``) for
an access token: the stored one while it is fresh, else a refresh-token grant whose rotated token is
stored at once; ``/token/refresh`` is not used.

``expiresAt`` is epoch milliseconds (wall clock). It is converted once, on receipt, into a deadline on
the injected monotonic ``clock``, so waits and tests are independent of the wall clock afterwards.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import anyio
import httpx2

from alm_bot.anaplan.auth import Credentials, LoginRequest, TokenAuth
from alm_bot.anaplan.envelopes import parse_body
from alm_bot.anaplan.error_mapping import (
    Endpoint,
    anaplan_message,
    error_for_response,
    error_for_transport_failure,
)
from alm_bot.anaplan.models import AnaplanModel
from alm_bot.anaplan.oauth import OAuthAuth, OAuthSession
from alm_bot.anaplan.retry import Retrier
from alm_bot.errors import AnaplanUnavailable, AuthenticationFailed, RateLimited

__all__ = ["REFRESH_MARGIN", "RawSend", "TokenKeeper"]

_log = logging.getLogger("alm_bot.anaplan")

REFRESH_MARGIN: Final = 300.0
"""Seconds before ``expiresAt`` at which the token is refreshed."""
_DEFAULT_LIFETIME: Final = 35 * 60.0  # reference §2.3, used when Anaplan sends no expiresAt
_MIN_USE: Final = 10.0  # never plan a renewal sooner than this, whatever the clocks say
_RETRY_RENEWAL_AFTER: Final = 30.0  # a refresh that failed transiently is tried again after this

_NO_AUTH_SERVICE: Final = "no Anaplan authentication service answers at the configured auth URL; check it"
_AUTHENTICATE: Final = Endpoint("/token/authenticate", "log in to Anaplan", gone=_NO_AUTH_SERVICE)
_REFRESH: Final = Endpoint("/token/refresh", "refresh the Anaplan token", gone=_NO_AUTH_SERVICE)
_VALIDATE: Final = Endpoint("/token/validate", "check the Anaplan token", gone=_NO_AUTH_SERVICE)


class RawSend(Protocol):
    """Sends one request without adding a token (the transport's logged exchange)."""

    def __call__(
        self,
        method: str,
        url: str,
        path: str,
        *,
        headers: dict[str, str],
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
    ) -> Awaitable[httpx2.Response]: ...


class _TokenInfo(AnaplanModel):
    token_value: str | None = None
    expires_at: int | None = None


class _AuthAnswer(AnaplanModel):
    """Body of authenticate, refresh and validate (``status`` is a string here, not an object)."""

    token_info: _TokenInfo


class TokenKeeper:
    """Holds the current token and renews it; shared by every request of one ``AnaplanClient``."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        send: RawSend,
        auth_url: str,
        retrier: Retrier,
        clock: Callable[[], float],
    ) -> None:
        self._credentials = credentials
        self._send = send
        self._auth_url = auth_url
        self._retrier = retrier
        self._clock = clock
        self._lock = anyio.Lock()
        self._generation = 0
        self._header: str | None = None
        self._renew_at = -math.inf
        self._expires_at = -math.inf
        self._oauth = (
            OAuthSession(credentials, self._send_form, sleep=retrier.sleep)
            if isinstance(credentials, OAuthAuth)
            else None
        )
        if isinstance(credentials, TokenAuth):
            # A token from elsewhere: its lifetime is unknown until login() validates it.
            self._header = f"AnaplanAuthToken {credentials.token.get_secret_value()}"
            self._renew_at = self._expires_at = math.inf

    @property
    def can_log_in(self) -> bool:
        return not isinstance(self._credentials, TokenAuth)

    def current(self) -> tuple[str, int] | None:
        """The Authorization header and its generation, if the token needs no renewal yet."""
        if self._header is not None and self._clock() < self._renew_at:
            return self._header, self._generation
        return None

    async def header(self) -> tuple[str, int]:
        """The Authorization header to send, renewing the token first when it is due."""
        found = self.current()
        if found is not None:
            return found
        return await self._renew(self._generation, rejected=False)

    async def after_rejection(self, generation: int) -> tuple[str, int] | None:
        """The API answered 401 to the token of ``generation``: log in again, once for everyone.

        Returns None when these credentials cannot log in again (a static token).
        """
        if not self.can_log_in:
            return None
        return await self._renew(generation, rejected=True)

    async def login(self) -> None:
        """Authenticate now (or, for a static token, check it and learn its expiry)."""
        async with self._lock:
            if self.can_log_in:
                await self._log_in()
            else:
                await self._validate()

    async def _renew(self, seen_generation: int, *, rejected: bool) -> tuple[str, int]:
        if not rejected and self._lock.locked() and self._still_alive():
            return self._alive_header()
        async with self._lock:
            if self._generation != seen_generation and self._header is not None:
                return self._header, self._generation  # renewed by someone else while we waited
            if not rejected and self.current() is not None:
                return self._alive_header()
            if rejected or self._header is None:
                await self._log_in(rejected=rejected)
            else:
                await self._refresh_or_log_in()
            return self._alive_header()

    def _send_form(self, url: str, path: str, fields: dict[str, str]) -> Awaitable[httpx2.Response]:
        return self._send("POST", url, path, headers={"Accept": "application/json"}, data=fields)

    def _still_alive(self) -> bool:
        return self._header is not None and self._clock() < self._expires_at

    def _alive_header(self) -> tuple[str, int]:
        assert self._header is not None
        return self._header, self._generation

    async def _refresh_or_log_in(self) -> None:
        try:
            if self._oauth is not None:
                await self._log_in()  # an OAuth "refresh" is the refresh-token grant, not /token/refresh
            else:
                await self._refresh()
        except AuthenticationFailed:
            if not self.can_log_in or self._oauth is not None:
                raise
            _log.info("Anaplan refused the token refresh; logging in again")
            await self._log_in()
        except (AnaplanUnavailable, RateLimited) as exc:
            if not self._still_alive():
                raise
            # The old token still works for a while: keep it rather than fail the request.
            _log.warning(
                "Anaplan token refresh failed (%s); keeping the current token for now", type(exc).__name__
            )
            self._renew_at = self._clock() + _RETRY_RENEWAL_AFTER

    async def _log_in(self, *, rejected: bool = False) -> None:
        credentials = self._credentials
        if isinstance(credentials, OAuthAuth):
            assert self._oauth is not None
            refused = self._header.removeprefix("AnaplanAuthToken ") if rejected and self._header else None
            token, expires_at = await self._oauth.access_token(rejected=refused)
            self._store(_TokenInfo(token_value=token, expires_at=int(expires_at * 1000)), _AUTHENTICATE)
            return
        if isinstance(credentials, TokenAuth):
            raise AuthenticationFailed(
                "Anaplan rejected the configured token; it may have expired (tokens last 35 minutes). "
                "Configure a fresh token, or a user/password or certificate so alm-bot can log in itself.",
                status=401,
                path=_AUTHENTICATE.path,
            )
        request = credentials.login_request()
        response = await self._auth_call("POST", _AUTHENTICATE, request)
        self._store(self._token_info(response, _AUTHENTICATE, who=credentials.describe()), _AUTHENTICATE)

    async def _refresh(self) -> None:
        assert self._header is not None
        response = await self._auth_call(
            "POST", _REFRESH, LoginRequest(headers={"Authorization": self._header})
        )
        self._store(self._token_info(response, _REFRESH, who=self._credentials.describe()), _REFRESH)

    async def _validate(self) -> None:
        assert self._header is not None
        response = await self._auth_call(
            "GET", _VALIDATE, LoginRequest(headers={"Authorization": self._header})
        )
        info = self._token_info(response, _VALIDATE, who=self._credentials.describe())
        if info.expires_at is not None:
            self._plan_renewal(info.expires_at)

    async def _auth_call(self, method: str, endpoint: Endpoint, request: LoginRequest) -> httpx2.Response:
        url = f"{self._auth_url}{endpoint.path}"
        headers = {**request.headers, "Accept": "application/json"}

        def send() -> Awaitable[httpx2.Response]:
            return self._send(method, url, endpoint.path, headers=headers, json=request.json)

        try:
            return await self._retrier.run(send, f"{method} {endpoint.path}")
        except httpx2.TransportError as exc:
            raise error_for_transport_failure(exc, endpoint) from exc

    def _token_info(self, response: httpx2.Response, endpoint: Endpoint, *, who: str) -> _TokenInfo:
        if response.status_code in (400, 401, 403):
            said = anaplan_message(response)
            reason = f" Anaplan said: {said.rstrip('.')}." if said else ""
            raise AuthenticationFailed(
                f"Anaplan refused to {endpoint.action} with {who}.{reason} "
                "Check the configured Anaplan credentials.",
                status=response.status_code,
                anaplan_message=said,
                path=endpoint.path,
            )
        if not response.is_success:
            raise error_for_response(response, endpoint)
        return parse_body(_AuthAnswer, response, action=endpoint.action, path=endpoint.path).token_info

    def _store(self, info: _TokenInfo, endpoint: Endpoint) -> None:
        if not info.token_value:
            raise AuthenticationFailed(
                f"Anaplan answered the request to {endpoint.action} without a token. Try again later.",
                path=endpoint.path,
            )
        self._header = f"AnaplanAuthToken {info.token_value}"
        self._generation += 1
        self._plan_renewal(info.expires_at)

    def _plan_renewal(self, expires_at_ms: int | None) -> None:
        lifetime = _DEFAULT_LIFETIME if expires_at_ms is None else expires_at_ms / 1000 - time.time()
        now = self._clock()
        self._expires_at = now + lifetime
        self._renew_at = now + max(lifetime - REFRESH_MARGIN, lifetime / 2, _MIN_USE)
