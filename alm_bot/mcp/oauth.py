"""OAuth 2.1 resource server: JWT access tokens from one issuer, checked and turned into actors.

`JwtVerifier` is the mcp SDK's ``TokenVerifier`` for ``ALM_BOT_MCP_OAUTH_ISSUER``: a token is
accepted only when it is a JWT signed with an asymmetric key the issuer publishes (`IssuerKeys`),
its ``iss`` is the issuer, its ``aud`` includes ``ALM_BOT_MCP_OAUTH_AUDIENCE`` (this server's /mcp
URL, the RFC 8707 resource), it has not expired, and it says who the caller is.

Identity: the claim named by ``ALM_BOT_MCP_OAUTH_IDENTITY_CLAIM`` (default ``slack_user_id``) must
hold the caller's Slack user id (``U…``/``W…``) — the identity provider maps its users to Slack ids
(a custom claim from a user attribute), so the four-eyes rule recognises an MCP requester when
they try to approve in Slack. A token without it is refused: an identity that Slack could not
recognise would let a requester approve their own change. The display name comes from ``name``,
``preferred_username`` or ``email``.

Refusals are logged with their reason (never the token) and answered 401 by the SDK.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Final

import jwt
from mcp.server.auth.provider import AccessToken

from alm_bot.actor import Actor
from alm_bot.mcp.issuer_keys import IssuerKeys
from alm_bot.mcp.scopes import granted_scopes

__all__ = ["CallerToken", "JwtVerifier", "caller_from_claims"]

log = logging.getLogger("alm_bot.mcp.oauth")

ASYMMETRIC_ALGORITHMS: Final = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
"""Never HS*/none: a shared-secret algorithm would let anyone holding the public key sign tokens."""

_SLACK_USER: Final = re.compile(r"[UW][A-Z0-9]{2,}")
_NAME_CLAIMS: Final = ("name", "preferred_username", "email")
_LEEWAY_SECONDS: Final = 30


class CallerToken(AccessToken):
    """An accepted access token (or static bearer token) and the actor it acts as."""

    actor: Actor


def caller_from_claims(claims: Mapping[str, object], identity_claim: str) -> Actor | None:
    """The actor a token's claims name, or None when the identity claim is not a Slack user id."""
    user_id = claims.get(identity_claim)
    if not isinstance(user_id, str) or not _SLACK_USER.fullmatch(user_id):
        return None
    name = next((v for c in _NAME_CLAIMS if isinstance(v := claims.get(c), str) and v.strip()), user_id)
    return Actor(id=user_id, name=name.strip(), origin="mcp")


class JwtVerifier:
    """Validates JWT access tokens against the issuer's published keys (an mcp ``TokenVerifier``)."""

    def __init__(self, keys: IssuerKeys, *, audience: str, identity_claim: str) -> None:
        self.keys = keys
        self.audience = audience
        self.identity_claim = identity_claim

    async def verify_token(self, token: str) -> AccessToken | None:
        try:
            return await self._verify(token)
        except jwt.PyJWTError as exc:
            return _refused(_reason(exc))

    async def _verify(self, token: str) -> AccessToken | None:
        header = jwt.get_unverified_header(token)
        algorithm = header.get("alg")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            return _refused(f"signed with {algorithm!r}, not an asymmetric algorithm")
        kid = header.get("kid")
        key = await self.keys.key_for(kid if isinstance(kid, str) else None)
        if key is None:
            return _refused(f"signed with key {kid!r}, which {self.keys.issuer} does not publish")
        if key.algorithm is not None and key.algorithm != algorithm:
            return _refused(f"signed with {algorithm}, but key {kid!r} is for {key.algorithm}")
        claims = jwt.decode(
            token,
            key.key,
            algorithms=[algorithm],
            audience=self.audience,
            issuer=self.keys.issuer,
            leeway=_LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "aud", "sub"]},
        )
        actor = caller_from_claims(claims, self.identity_claim)
        if actor is None:
            return _refused(f"its claim {self.identity_claim!r} is missing or not a Slack user id")
        subject = str(claims["sub"])
        return CallerToken(
            token=token,
            client_id=str(claims.get("client_id") or claims.get("azp") or subject),
            scopes=granted_scopes(claims),
            expires_at=int(claims["exp"]),
            resource=self.audience,
            subject=subject,
            claims={"iss": self.keys.issuer},
            actor=actor,
        )


def _refused(reason: str) -> AccessToken | None:
    """Log why a token is refused (never the token itself); the answer is always None."""
    log.warning("refused an MCP access token: %s", reason)
    return None


def _reason(exc: jwt.PyJWTError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "it has expired"
    if isinstance(exc, jwt.InvalidAudienceError):
        return "it was not issued for this server (aud)"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "it comes from another issuer (iss)"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "its signature does not verify"
    return f"{type(exc).__name__}: {exc}"
