"""OAuth 2.0 routes: ``/oauth/device/code``, ``/oauth/token``, ``/oauth/revoke`` (see `oauth`)."""

from __future__ import annotations

import secrets

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from alm_bot.sandbox.oauth import ACCESS_TTL, DEVICE_GRANT, DeviceCode, new_user_code
from alm_bot.sandbox.sandbox import Sandbox
from alm_bot.sandbox.state import User
from alm_bot.sandbox.urls import app_base

__all__ = ["oauth_routes"]

_DEVICE_TTL = 600.0
_INTERVAL = 5


def _error(code: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


def oauth_routes(sandbox: Sandbox) -> list[Route]:
    service = sandbox.oauth

    def tokens(user: User, client_id: str, now: float) -> JSONResponse:
        access = sandbox.tokens.issue(user, now, ttl=ACCESS_TTL)
        return JSONResponse(
            {
                "access_token": access.token_value,
                "token_type": "bearer",
                "expires_in": int(ACCESS_TTL),
                "refresh_token": service.issue_refresh(user, client_id, now),
                "scope": "openid email offline_access",
            }
        )

    async def registered_client(request: Request) -> tuple[FormData, str | None]:
        """The form and its ``client_id``, or None when that client is not registered."""
        form = await request.form()
        client_id = str(form.get("client_id", ""))
        return form, client_id if client_id in service.clients else None

    async def device_code(request: Request) -> Response:
        _, client_id = await registered_client(request)
        if client_id is None:
            return _error("invalid_client", "Unknown client_id.", 401)
        now = sandbox.now()
        code = DeviceCode(secrets.token_urlsafe(24), new_user_code(), client_id, now + _DEVICE_TTL)
        service.devices[code.device_code] = code
        base = app_base(request)
        return JSONResponse(
            {
                "device_code": code.device_code,
                "user_code": code.user_code,
                "verification_uri": f"{base}/oauth/device",
                "verification_uri_complete": f"{base}/oauth/device?user_code={code.user_code}",
                "expires_in": int(_DEVICE_TTL),
                "interval": _INTERVAL,
            }
        )

    async def token(request: Request) -> Response:
        form, client_id = await registered_client(request)
        if client_id is None:
            return _error("invalid_client", "Unknown client_id.", 401)
        now = sandbox.now()
        grant = form.get("grant_type")
        if grant == DEVICE_GRANT:
            return device_answer(str(form.get("device_code", "")), client_id, now)
        if grant == "refresh_token":
            return refresh_answer(str(form.get("refresh_token", "")), client_id, now)
        return _error("unsupported_grant_type", f"grant_type {grant!r} is not supported.")

    def device_answer(device_code: str, client_id: str, now: float) -> Response:
        code = service.devices.get(device_code)
        if code is None or code.client_id != client_id or code.used:
            return _error("invalid_grant", "Unknown or already used device_code.")
        if code.expires_at <= now:
            return _error("expired_token", "The device code expired; start the login again.")
        if code.user is None:
            return _error("authorization_pending", "The user has not approved the login yet.")
        code.used = True
        return tokens(code.user, client_id, now)

    def refresh_answer(refresh_token: str, client_id: str, now: float) -> Response:
        found = service.refresh_tokens.pop(refresh_token, None)  # single use: rotation
        if found is None or found[1] != client_id or found[2] <= now:
            return _error("invalid_grant", "The refresh token is invalid, expired, revoked or already used.")
        return tokens(found[0], client_id, now)

    async def revoke(request: Request) -> Response:
        form = await request.form()
        service.refresh_tokens.pop(str(form.get("token", "")), None)
        return Response(status_code=200)

    return [
        Route("/oauth/device/code", device_code, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]
