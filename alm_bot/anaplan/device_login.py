"""The OAuth 2.0 device grant (RFC 8628) against Anaplan's OAuth service: how a person logs alm-bot in.

``start`` asks ``/oauth/device/code`` for a code; the person opens the verification URL and enters
the user code (Anaplan's device grant takes basic-auth users, not SSO); ``wait`` polls
``/oauth/token`` every ``interval`` seconds (5 more after each ``slow_down``) until the person
approved, refused, or the code expired, and returns the first ``TokenGrant``. Every wait goes
through the injected ``sleep`` and is bounded by the code's own ``expires_in``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import anyio
import httpx2

from alm_bot.anaplan.models import AnaplanModel
from alm_bot.anaplan.oauth import OAuthAuth, TokenGrant, oauth_error, parse_token_answer
from alm_bot.anaplan.retry import Sleep
from alm_bot.errors import AuthenticationFailed

__all__ = ["DEVICE_GRANT", "DeviceCode", "DeviceLogin"]

DEVICE_GRANT: Final = "urn:ietf:params:oauth:grant-type:device_code"
_DEVICE_PATH: Final = "/oauth/device/code"
_TOKEN_PATH: Final = "/oauth/token"  # noqa: S105 - a URL path, not a secret


class DeviceCode(AnaplanModel):
    """What the person needs to see (``verification_uri``, ``user_code``) and what alm-bot polls with."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None = None
    expires_in: float = 600.0
    interval: float = 5.0


@dataclass
class DeviceLogin:
    """One device-grant login for ``auth``'s OAuth client, over ``http``."""

    auth: OAuthAuth
    http: httpx2.AsyncClient
    sleep: Sleep = anyio.sleep
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    async def start(self) -> DeviceCode:
        response = await self._post(_DEVICE_PATH, self.auth.client_fields())
        if not response.is_success:
            raise AuthenticationFailed(
                f"Anaplan's OAuth service refused to start a device login for {self.auth.describe()} "
                f"(HTTP {response.status_code}, {oauth_error(response) or 'no reason given'}). Check "
                "ANAPLAN_OAUTH_CLIENT_ID: it must be a device-grant client.",
                status=response.status_code,
                path=_DEVICE_PATH,
            )
        return DeviceCode.model_validate_json(response.content)

    async def wait(self, code: DeviceCode) -> TokenGrant:
        """Poll until the person approved (the grant), or raise ``AuthenticationFailed`` saying why not."""
        deadline = self.clock() + code.expires_in
        interval = max(code.interval, 1.0)
        fields = {"grant_type": DEVICE_GRANT, "device_code": code.device_code, **self.auth.client_fields()}
        while self.clock() < deadline:
            await self.sleep(interval)
            response = await self._post(_TOKEN_PATH, fields)
            if response.is_success:
                return parse_token_answer(response, self.wall_clock(), None)
            error = oauth_error(response)
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += 5.0
                continue
            raise AuthenticationFailed(
                self._refused(error, response.status_code), status=response.status_code
            )
        raise AuthenticationFailed(self._refused("expired_token", None))

    def _refused(self, error: str, status: int | None) -> str:
        if error == "expired_token":
            return "The device login expired before it was approved. Run `alm-bot anaplan login` again."
        if error == "access_denied":
            return "The device login was refused in the browser."
        return (
            f"Anaplan's OAuth service refused the device login (HTTP {status}, {error or 'no reason given'})."
        )

    async def _post(self, path: str, fields: dict[str, str]) -> httpx2.Response:
        return await self.http.post(
            f"{self.auth.oauth_url}{path}", data=fields, headers={"Accept": "application/json"}
        )
