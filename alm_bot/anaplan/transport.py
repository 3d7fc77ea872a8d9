"""One authenticated, logged, retried HTTP channel to Anaplan, shared by every call of a client.

``AnaplanHttp`` owns the single ``httpx2.AsyncClient`` (one connection pool, see ``POOL_LIMITS``), the
``TokenKeeper`` and the ``Retrier``:

- ``exchange`` sends one request with the current token and, on a 401, re-authenticates once and
  replays it once. It does not retry anything else and lets transport errors through unmapped, so
  ``creation.py`` can decide what a failed task-creating POST means.
- ``get``/``put`` wrap ``exchange`` in the retry loop (both are idempotent) and turn any failure that
  outlived it into the alm-bot error tree.

Each exchange logs one debug line: method, path, status, elapsed time. Never headers, never bodies.
URLs are joined onto the configured base as text, so a base with a path prefix
(``http://127.0.0.1:8000/sandbox/2/0``) works like the real host.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypeVar
from urllib.parse import urlencode

import httpx2

from alm_bot.anaplan.auth import Credentials
from alm_bot.anaplan.envelopes import parse_body
from alm_bot.anaplan.error_mapping import Endpoint, error_for_response, error_for_transport_failure
from alm_bot.anaplan.models import AnaplanModel
from alm_bot.anaplan.retry import Retrier, RetryPolicy, Sleep
from alm_bot.anaplan.tokens import TokenKeeper

__all__ = ["JSON", "OCTET_STREAM", "POOL_LIMITS", "AnaplanHttp", "Network"]

_log = logging.getLogger("alm_bot.anaplan")

JSON: Final = "application/json"
OCTET_STREAM: Final = "application/octet-stream"
POOL_LIMITS: Final = httpx2.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=4.0)
"""100 requests in flight at once; more wait for a free connection (within the timeout) rather than fail.

Measured against one local server with 200 concurrent calls: 200 connections, or 100 kept alive, gave
*less* throughput than 100/20 (connection setup and per-connection work on both ends outweigh the
parallelism), and Anaplan's rate limit makes more parallelism moot. Idle connections are dropped
after 4 s, below common server idle timeouts (uvicorn's 5 s, load balancers' 60 s), so a
task-creating POST rarely meets a connection the server is just closing, which would make its
outcome ambiguous."""
_USER_AGENT: Final = "alm-bot (Anaplan ALM chat-ops)"

E = TypeVar("E", bound=AnaplanModel)
Params = Mapping[str, str | int]


@dataclass(frozen=True, slots=True)
class Network:
    """How to reach Anaplan: an explicit proxy and CA bundle, else httpx's defaults (which also read
    ``HTTPS_PROXY``/``SSL_CERT_FILE`` from the environment)."""

    proxy: str | None = None
    ca_bundle: Path | None = None

    def client_options(self) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if self.proxy is not None:
            options["proxy"] = self.proxy
        if self.ca_bundle is not None:
            options["verify"] = ssl.create_default_context(cafile=str(self.ca_bundle))
        return options


class AnaplanHttp:
    """The shared channel: token, pool, retries, logging, error translation."""

    def __init__(
        self,
        *,
        credentials: Credentials,
        api_url: str,
        auth_url: str,
        timeout: float,
        retry: RetryPolicy,
        sleep: Sleep,
        clock: Callable[[], float],
        transport: httpx2.AsyncBaseTransport | None,
        network: Network | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.sleep = sleep
        self.clock = clock
        self.retrier = Retrier(retry, sleep)
        self.observer: Callable[[int | None], None] | None = None  # each exchange's status (None: no answer)
        self._client = httpx2.AsyncClient(
            timeout=httpx2.Timeout(timeout),
            limits=POOL_LIMITS,
            transport=transport,
            headers={"User-Agent": _USER_AGENT},
            **(network or Network()).client_options(),
        )
        self.tokens = TokenKeeper(
            credentials, send=self._send, auth_url=auth_url.rstrip("/"), retrier=self.retrier, clock=clock
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _send(
        self,
        method: str,
        url: str,
        path: str,
        *,
        headers: dict[str, str],
        json: dict[str, Any] | None = None,
        data: dict[str, str] | None = None,
        cap: int | None = None,
    ) -> httpx2.Response:
        """One HTTP exchange and its debug line; ``path`` (no query, no token) is what gets logged.

        With ``cap``, at most ``cap + 1`` bytes of the body are read (a longer body is cut there and
        the connection dropped), so an oversized download costs no more than the cap."""
        started = time.perf_counter()
        try:
            if cap is None:
                response = await self._client.request(method, url, json=json, data=data, headers=headers)
            else:
                response = await self._capped(method, url, headers, cap)
        except httpx2.TransportError as exc:
            _log.debug("%s %s failed: %s after %.1f ms", method, path, type(exc).__name__, _ms_since(started))
            if self.observer is not None:
                self.observer(None)
            raise
        if self.observer is not None:
            self.observer(response.status_code)
        if _log.isEnabledFor(logging.DEBUG):
            _log.debug("%s %s -> %d in %.1f ms", method, path, response.status_code, _ms_since(started))
        return response

    async def _capped(self, method: str, url: str, headers: dict[str, str], cap: int) -> httpx2.Response:
        request = self._client.build_request(method, url, headers=headers)
        streamed = await self._client.send(request, stream=True)
        body = bytearray()
        try:
            async for chunk in streamed.aiter_bytes():
                body += chunk
                if len(body) > cap:
                    break
        finally:
            await streamed.aclose()
        # The body is decoded already: a plain response of what was read, without the encoding headers.
        kept = [
            (k, v) for k, v in streamed.headers.items() if k not in ("content-encoding", "content-length")
        ]
        return httpx2.Response(
            streamed.status_code, headers=kept, content=bytes(body[: cap + 1]), request=request
        )

    async def exchange(
        self,
        method: str,
        endpoint: Endpoint,
        *,
        params: Params | None = None,
        json: dict[str, Any] | None = None,
        accept: str = JSON,
        link: str | None = None,
        cap: int | None = None,
    ) -> httpx2.Response:
        """Send once with the current token; after a 401, log in again and replay exactly once.

        ``link`` (a ``meta.paging.next`` URL) replaces path and query, but only when it points at this
        same endpoint of the configured API: the token is never sent anywhere else.
        """
        if link is not None and link.startswith(f"{self.api_url}{endpoint.path}?"):
            url = link
        elif params:
            # Encoded here rather than through httpx's ``params=``, which parses the URL twice.
            url = f"{self.api_url}{endpoint.path}?{urlencode(params)}"
        else:
            url = self.api_url + endpoint.path
        header, generation = self.tokens.current() or await self.tokens.header()
        response = await self._send(
            method,
            url,
            endpoint.path,
            headers={"Authorization": header, "Accept": accept},
            json=json,
            cap=cap,
        )
        if response.status_code != 401:
            return response
        renewed = await self.tokens.after_rejection(generation)
        if renewed is None:
            return response
        _log.info("%s %s was refused with 401; replaying once with a fresh token", method, endpoint.path)
        return await self._send(
            method,
            url,
            endpoint.path,
            headers={"Authorization": renewed[0], "Accept": accept},
            json=json,
            cap=cap,
        )

    async def _with_retries(
        self, send: Callable[[], Awaitable[httpx2.Response]], label: str, endpoint: Endpoint
    ) -> httpx2.Response:
        try:
            response = await self.retrier.run(send, label)
        except httpx2.TransportError as exc:
            raise error_for_transport_failure(exc, endpoint) from exc
        if response.is_success:
            return response
        raise error_for_response(response, endpoint)

    async def get(
        self,
        endpoint: Endpoint,
        *,
        params: Params | None = None,
        accept: str = JSON,
        link: str | None = None,
        cap: int | None = None,
    ) -> httpx2.Response:
        """GET with retries; a failure that outlives them is raised as an alm-bot error. ``cap``: read
        at most ``cap + 1`` bytes of the body (see ``_send``)."""

        def send() -> Awaitable[httpx2.Response]:
            return self.exchange("GET", endpoint, params=params, accept=accept, link=link, cap=cap)

        return await self._with_retries(send, f"GET {endpoint.path}", endpoint)

    async def get_json(
        self, endpoint: Endpoint, envelope: type[E], *, params: Params | None = None, link: str | None = None
    ) -> E:
        response = await self.get(endpoint, params=params, link=link)
        return parse_body(envelope, response, action=endpoint.action, path=endpoint.path)

    async def put(self, endpoint: Endpoint, json: dict[str, Any]) -> httpx2.Response:
        """PUT with retries (only used for ``onlineStatus``, which is idempotent)."""

        def send() -> Awaitable[httpx2.Response]:
            return self.exchange("PUT", endpoint, json=json)

        return await self._with_retries(send, f"PUT {endpoint.path}", endpoint)


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000
