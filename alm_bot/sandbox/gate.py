"""The ASGI layer in front of the routes: rate limit, injected faults, request log.

Every API and auth request passes, in this order: the token bucket (429 + ``Retry-After`` when
empty), the fault list (an error answer, or a late one), content negotiation (415/406, see
`media`), the routes, and the request log. Answers from the routes carry a ``Date`` header in
sandbox time, as every HTTP server's do (clients may read the server's clock from it). Control
endpoints (``/_sandbox/…``) skip all three: rehearsal tools should neither be throttled nor
broken by their own faults, and they stay out of the log they are used to read.
"""

from __future__ import annotations

import math
from email.utils import formatdate
from typing import Final

import anyio
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alm_bot.sandbox.envelopes import api_error, auth_error
from alm_bot.sandbox.errors import ApiError, AuthServiceError
from alm_bot.sandbox.faults import Fault
from alm_bot.sandbox.media import check_media
from alm_bot.sandbox.sandbox import Sandbox

__all__ = ["CONTROL_PREFIX", "SandboxGate", "route_path"]

CONTROL_PREFIX: Final = "/_sandbox"
_FAULT_MESSAGES: Final = {
    401: "The authentication token is missing, invalid or expired.",
    429: "Too many requests. Retry later.",
}


def route_path(scope: Scope) -> str:
    """The request path below the app's mount point."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


def _error_response(
    status: int, path: str, full_path: str, now: float, headers: dict[str, str], message: str | None = None
) -> JSONResponse:
    """An injected, rate-limit or negotiation error, in the body shape of the path's service."""
    if path.startswith("/token/") and status in (400, 401):
        failure = AuthServiceError.bad_credential if status == 401 else AuthServiceError.bad_header
        response = auth_error(failure(message or _FAULT_MESSAGES.get(status, "Bad request.")))
    else:
        text = message or _FAULT_MESSAGES.get(status, "The sandbox was told to fail this request.")
        response = api_error(ApiError(status, text), full_path, now)
    response.headers.update(headers)
    return response


class SandboxGate:
    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else CONTROL_PREFIX
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        sandbox = self.sandbox
        method: str = scope["method"]
        arrived = sandbox.now()
        wait = sandbox.rate_limiter.take()
        if wait is not None:
            retry = str(max(1, math.ceil(wait)))
            await _error_response(429, path, scope["path"], arrived, {"Retry-After": retry})(
                scope, receive, send
            )
            sandbox.record(method, path, 429, arrived)
            return
        fault = sandbox.faults.take(method, path) if len(sandbox.faults) else None
        if fault is not None and fault.status is not None:
            await self._fail(fault, fault.status, path, scope, receive, send)
            sandbox.record(method, path, fault.status, arrived)
            return
        fidelity = sandbox.fidelity
        try:
            check_media(
                method,
                path,
                Headers(scope=scope),
                content_type=fidelity.require_json_content_type,
                accept=fidelity.honour_accept,
            )
        except ApiError as refused:
            await _error_response(refused.status, path, scope["path"], arrived, {}, refused.message)(
                scope, receive, send
            )
            sandbox.record(method, path, refused.status, arrived)
            return
        status = await self._serve(scope, receive, send, delay=fault.delay if fault else None)
        sandbox.record(method, path, status, arrived)

    async def _fail(
        self, fault: Fault, status: int, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if fault.delay:
            await anyio.sleep(fault.delay)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(fault.retry_after)))
        response = _error_response(status, path, scope["path"], self.sandbox.now(), headers)
        await response(scope, receive, send)

    async def _serve(self, scope: Scope, receive: Receive, send: Send, delay: float | None) -> int:
        """Run the routes; with a delay, do the work now and hold the whole answer back."""
        status = 500
        held: list[Message] = []

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                date = formatdate(self.sandbox.now(), usegmt=True).encode()
                message = {**message, "headers": [*message.get("headers", []), (b"date", date)]}
            if delay:
                held.append(message)
            else:
                await send(message)

        await self.app(scope, receive, watch)
        if delay:
            await anyio.sleep(delay)
            for message in held:
                await send(message)
        return status
