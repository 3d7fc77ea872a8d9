"""A local OAuth authorization server for the tests: keys made here, metadata and JWKS on loopback.

`LocalIssuer` serves RFC 8414 metadata (or, with ``discovery="oidc"``, OpenID Connect discovery)
and its JWK set as a Starlette app; `serving(issuer.app)` puts it on an ephemeral port, and
`issuer.token(...)` signs access tokens the way an identity provider would. Keys can be rotated,
and every JWKS fetch is counted.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

AUDIENCE = "https://alm-bot.test/mcp"
METADATA_PATH = "/.well-known/oauth-protected-resource/mcp"


def new_key() -> tuple[str, RSAPrivateKey]:
    return f"key-{uuid.uuid4().hex[:8]}", rsa.generate_private_key(public_exponent=65537, key_size=2048)


class LocalIssuer:
    def __init__(self, *, discovery: Literal["rfc8414", "oidc"] = "rfc8414") -> None:
        self.url = ""  # set once served: the issuer is its own base URL
        self.published: list[tuple[str, RSAPrivateKey]] = [new_key()]
        self.jwks_fetches = 0
        metadata_path = (
            "/.well-known/oauth-authorization-server"
            if discovery == "rfc8414"
            else "/.well-known/openid-configuration"
        )
        self.app = Starlette(
            routes=[Route(metadata_path, self._metadata), Route("/jwks", self._jwks)],
        )

    async def _metadata(self, request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": self.url,
                "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token",
                "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"],
            }
        )

    async def _jwks(self, request: Request) -> JSONResponse:
        self.jwks_fetches += 1
        keys = []
        for kid, private in self.published:
            jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key()))
            keys.append(jwk | {"kid": kid, "use": "sig", "alg": "RS256"})
        return JSONResponse({"keys": keys})

    def rotate(self) -> None:
        """Publish a new key in place of the old ones (tokens signed with the old ones stop verifying)."""
        self.published = [new_key()]

    def token(
        self,
        *,
        scope: str = "alm:read alm:request",
        slack_user_id: str | None = "U0OAUTHADA",
        audience: str | list[str] = AUDIENCE,
        issuer: str | None = None,
        expires_in: int = 300,
        key: tuple[str, RSAPrivateKey] | None = None,
        **claims: Any,
    ) -> str:
        kid, private = key or self.published[0]
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": issuer or self.url,
            "sub": "auth0|ada",
            "aud": audience,
            "iat": now,
            "exp": now + expires_in,
            "scope": scope,
            "client_id": "claude-connector",
            "name": "Ada Lovelace",
            **claims,
        }
        if slack_user_id is not None:
            payload["slack_user_id"] = slack_user_id
        return jwt.encode(payload, private, algorithm="RS256", headers={"kid": kid})
