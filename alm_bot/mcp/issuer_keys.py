"""The authorization server's signing keys: found from its metadata, cached, refreshed with a bound.

`IssuerKeys.key_for(kid)` answers the key a JWT access token names. The JWKS URL is
``ALM_BOT_MCP_OAUTH_JWKS_URL`` or, by default, the ``jwks_uri`` of the issuer's metadata: RFC 8414
(``/.well-known/oauth-authorization-server``) first, then OpenID Connect discovery
(``/.well-known/openid-configuration``); the metadata must name the configured issuer.

Nothing is fetched at start-up (an identity provider that is down must not stop alm-bot from
starting); the first token fetches. The key set is kept for ``max_age`` and fetched again when a
token names a key it does not hold (the issuer rotated its keys) — but at most once per
``min_refresh``, so tokens naming made-up keys cannot make alm-bot hammer the identity provider.
A failed fetch is logged and counts as an attempt; tokens are refused until keys arrive.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import anyio
import httpx2
import jwt

__all__ = ["IssuerKeys", "IssuerUnavailable", "SigningKey", "metadata_urls"]

log = logging.getLogger("alm_bot.mcp.oauth")

_TIMEOUT_SECONDS: Final = 10.0


class IssuerUnavailable(Exception):
    """The issuer's metadata or key set could not be fetched or made no sense (the text says which)."""


@dataclass(frozen=True)
class SigningKey:
    """One published public key: its id, the key itself, and the algorithm it declares (if any)."""

    kid: str | None
    key: Any  # a cryptography public key object, as PyJWT returns it
    algorithm: str | None


def metadata_urls(issuer: str) -> list[str]:
    """Where an issuer's metadata lives: RFC 8414 (path after the well-known part), then OIDC."""
    parts = urlsplit(issuer)
    origin, path = f"{parts.scheme}://{parts.netloc}", parts.path.rstrip("/")
    return [
        f"{origin}/.well-known/oauth-authorization-server{path}",
        f"{origin}{path}/.well-known/openid-configuration",
    ]


class IssuerKeys:
    """The issuer's public keys by key id, fetched on demand with httpx2."""

    def __init__(
        self,
        issuer: str,
        *,
        jwks_url: str | None = None,
        min_refresh: float = 30.0,
        max_age: float = 3600.0,
    ) -> None:
        self.issuer = issuer
        self._jwks_url = jwks_url
        self._min_refresh = min_refresh
        self._max_age = max_age
        self._keys: dict[str | None, SigningKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._lock = anyio.Lock()
        self.fetches = 0
        """How many times the key set was fetched (the tests check the bound with it)."""

    async def key_for(self, kid: str | None) -> SigningKey | None:
        """The key named ``kid`` (or the only key, for a token without ``kid``); None if unknown."""
        now = time.monotonic()
        stale = self._fetched_at is None or now - self._fetched_at > self._max_age
        if stale or self._pick(kid) is None:
            await self._refresh_if_due()
        return self._pick(kid)

    def _pick(self, kid: str | None) -> SigningKey | None:
        if kid is None and len(self._keys) == 1:
            return next(iter(self._keys.values()))
        return self._keys.get(kid) if kid is not None else None

    async def _refresh_if_due(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if self._attempted_at is not None and now - self._attempted_at < self._min_refresh:
                return  # fetched (or tried) a moment ago: a token naming an unknown key waits its turn
            self._attempted_at = now
            try:
                self._keys = await self._fetch()
            except IssuerUnavailable as exc:
                log.warning("could not fetch the signing keys of %s: %s", self.issuer, exc)
                return
            self._fetched_at = now

    async def _fetch(self) -> dict[str | None, SigningKey]:
        self.fetches += 1
        async with httpx2.AsyncClient(timeout=_TIMEOUT_SECONDS, follow_redirects=False) as http:
            jwks_url = self._jwks_url or await self._discover(http)
            document = await _get_json(http, jwks_url)
        keys = document.get("keys")
        if not isinstance(keys, list):
            raise IssuerUnavailable(f"{jwks_url} is not a JWK set (no 'keys' list)")
        found: dict[str | None, SigningKey] = {}
        for entry in keys:
            key = _usable_key(entry)
            if key is not None:
                found[key.kid] = key
        if not found:
            raise IssuerUnavailable(f"{jwks_url} holds no signing key alm-bot can use")
        return found

    async def _discover(self, http: httpx2.AsyncClient) -> str:
        problems: list[str] = []
        for url in metadata_urls(self.issuer):
            try:
                metadata = await _get_json(http, url)
            except IssuerUnavailable as exc:
                problems.append(str(exc))
                continue
            if metadata.get("issuer") != self.issuer:
                raise IssuerUnavailable(
                    f"{url} names the issuer {metadata.get('issuer')!r}, not {self.issuer!r} "
                    "(ALM_BOT_MCP_OAUTH_ISSUER must be exactly the issuer's own spelling)"
                )
            jwks_uri = metadata.get("jwks_uri")
            if not isinstance(jwks_uri, str):
                raise IssuerUnavailable(f"{url} has no jwks_uri: set ALM_BOT_MCP_OAUTH_JWKS_URL")
            return jwks_uri
        raise IssuerUnavailable("no authorization server metadata found: " + "; ".join(problems))


async def _get_json(http: httpx2.AsyncClient, url: str) -> Mapping[str, object]:
    try:
        response = await http.get(url, headers={"Accept": "application/json"})
    except httpx2.HTTPError as exc:
        raise IssuerUnavailable(f"{url}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise IssuerUnavailable(f"{url} answered HTTP {response.status_code}")
    try:
        document = response.json()
    except ValueError as exc:
        raise IssuerUnavailable(f"{url} did not answer JSON") from exc
    if not isinstance(document, dict):
        raise IssuerUnavailable(f"{url} did not answer a JSON object")
    return document


def _usable_key(entry: object) -> SigningKey | None:
    """A signing key from a JWK set entry; None for encryption keys, symmetric keys and junk."""
    if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or entry.get("kty") == "oct":
        return None
    try:
        parsed = jwt.PyJWK(entry)
    except jwt.PyJWTError:
        return None
    declared = entry.get("alg")
    return SigningKey(parsed.key_id, parsed.key, declared if isinstance(declared, str) else None)
