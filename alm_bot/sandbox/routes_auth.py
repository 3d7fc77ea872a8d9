"""The auth service (reference §2): ``/token/authenticate``, ``/refresh``, ``/validate``, ``/logout``.

Served by the same app as the API, at its root, so one host is both ``ANAPLAN_AUTH_URL`` and (with
``/2/0``) ``ANAPLAN_API_URL``. Basic login and certificate login answer 201; refresh keeps the
``tokenValue`` and extends its expiry (200); validate answers 200 with ``userInfo``; logout 204.
Errors use the auth service's own body: 401 ``FAILURE_BAD_CREDENTIAL`` for bad credentials and
expired, logged-out or unknown tokens; 400 ``FAILURE_BAD_HEADER`` for a malformed Authorization
header — including ``Bearer`` on validate and refresh, while logout answers ``Bearer`` with 401.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alm_bot.sandbox.certificates import certificate_login_email
from alm_bot.sandbox.errors import AuthServiceError
from alm_bot.sandbox.formats import epoch_ms
from alm_bot.sandbox.sandbox import Sandbox
from alm_bot.sandbox.seed import CUSTOMER_GUID
from alm_bot.sandbox.state import User
from alm_bot.sandbox.tokens import Session, split_authorization
from alm_bot.sandbox.urls import app_base

__all__ = ["auth_routes"]

_BAD_CREDENTIALS = "The username or password is incorrect."
_REFUSED_SESSION = "The token is invalid, expired or logged out."


def _basic_user(sandbox: Sandbox, encoded: str) -> User:
    try:
        decoded = base64.b64decode(encoded, validate=True).decode()
    except (binascii.Error, ValueError):
        raise AuthServiceError.bad_header("The Basic Authorization header is not valid base64.") from None
    email, colon, password = decoded.partition(":")
    if not colon:
        raise AuthServiceError.bad_header("The Basic Authorization header must encode 'email:password'.")
    user = sandbox.world.user_by_email(email)
    if user is None or user.password != password:
        raise AuthServiceError.bad_credential(_BAD_CREDENTIALS)
    return user


async def _login_user(sandbox: Sandbox, request: Request, now: float) -> User:
    scheme, value = split_authorization(request.headers.get("authorization", ""))
    if scheme == "Basic":
        return _basic_user(sandbox, value)
    if scheme == "CACertificate":
        email = certificate_login_email(
            value, await request.body(), now, strict=sandbox.fidelity.strict_auth, replays=sandbox.replays
        )
        user = sandbox.world.user_by_email(email)
        if user is None:
            raise AuthServiceError.bad_credential(f"The certificate's user '{email}' is not known.")
        return user
    raise AuthServiceError.bad_header("Authenticate with 'Basic' or 'CACertificate' authorization.")


def _session(sandbox: Sandbox, request: Request, now: float, *, bearer_status: int) -> Session:
    scheme, value = split_authorization(request.headers.get("authorization", ""))
    if scheme == "Bearer" and bearer_status == 401:
        raise AuthServiceError.bad_credential(_REFUSED_SESSION)
    if scheme != "AnaplanAuthToken" or not value:
        raise AuthServiceError.bad_header("Expected 'Authorization: AnaplanAuthToken <token>'.")
    session = sandbox.tokens.find(value, now)
    if session is None:
        raise AuthServiceError.bad_credential(_REFUSED_SESSION)
    return session


def _token_body(request: Request, session: Session, message: str) -> dict[str, Any]:
    return {
        "meta": {"validationUrl": f"{app_base(request)}/token/validate"},
        "status": "SUCCESS",
        "statusMessage": message,
        "tokenInfo": {
            "tokenId": session.token_id,
            "tokenValue": session.token_value,
            "expiresAt": epoch_ms(session.expires_at),
            "refreshTokenId": session.refresh_token_id,
            "refreshToken": session.refresh_token,
        },
    }


def auth_routes(sandbox: Sandbox) -> list[Route]:
    async def authenticate(request: Request) -> Response:
        now = sandbox.now()
        user = await _login_user(sandbox, request, now)
        session = sandbox.tokens.issue(user, now)
        return JSONResponse(_token_body(request, session, "Login successful"), status_code=201)

    async def refresh(request: Request) -> Response:
        now = sandbox.now()
        session = _session(sandbox, request, now, bearer_status=400)
        sandbox.tokens.refresh(session, now)
        return JSONResponse(_token_body(request, session, "Token refreshed"))

    async def validate(request: Request) -> Response:
        session = _session(sandbox, request, sandbox.now(), bearer_status=400)
        return JSONResponse(
            {
                "meta": {"validationUrl": f"{app_base(request)}/token/validate"},
                "status": "SUCCESS",
                "statusMessage": "Token validated",
                "tokenInfo": {"expiresAt": epoch_ms(session.expires_at), "tokenId": session.token_id},
                "userInfo": {
                    "userGuid": session.user.guid,
                    "userId": session.user.email,
                    "customerGuid": CUSTOMER_GUID,
                },
            }
        )

    async def logout(request: Request) -> Response:
        session = _session(sandbox, request, sandbox.now(), bearer_status=401)
        sandbox.tokens.logout(session)
        return Response(status_code=204)

    return [
        Route("/token/authenticate", authenticate, methods=["POST"]),
        Route("/token/refresh", refresh, methods=["POST"]),
        Route("/token/validate", validate, methods=["GET"]),
        Route("/token/logout", logout, methods=["POST"]),
    ]
