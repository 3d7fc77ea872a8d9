"""A fake Slack on 127.0.0.1 for offline tests: Web API, response_url sink, file uploads, Socket Mode.

Start it, point the bot's ``AsyncWebClient(base_url=fake.api_url)`` at it, drive the bot with signed
requests (``sign`` and the ``*_body`` builders, re-exported from ``tools.slack_requests``), then assert
on what the bot sent::

    async with FakeSlack(bot_token="xoxb-test") as fake:
        fake.usergroups["S0APPROVERS"] = ["U0GRACE"]
        client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
        ...
        (post,) = await fake.wait_for("chat.postMessage")
        assert post.params["blocks"][0]["type"] == "section"

Every request is recorded in ``fake.calls`` (in arrival order) as a :class:`Call`, including failed and
unknown ones, so retries and mistakes are visible. Faults: ``fail_next`` (refuse the next calls) and
``delay_next`` (a slow Slack: carry the call out and record it at once, answer it late — so a test can
kill the bot while Slack already has its message). Web API semantics (what each method answers, what
state it keeps) live in ``tools.fake_slack_workspace``; this module is the aiohttp plumbing.

Routes: ``/api/{method}`` (GET or POST; JSON, form or multipart; ``blocks``/``view``/``files``
decoded to lists/dicts), ``/response/{name}`` (``response_url`` target), ``/upload/{file_id}``
(``files.getUploadURLExternal`` upload target), ``/socket`` (the Socket Mode websocket).

Socket Mode: ``apps.connections.open`` (app token) hands out ``ws://…/socket``; the fake greets with
``hello`` and :meth:`FakeSlack.socket_send` pushes an envelope and returns the client's ack::

    handler = AsyncSocketModeHandler(app, app_token=fake.app_token)   # app.client points at the fake
    await handler.connect_async()
    try:
        ack = await fake.socket_send("slash_commands", slash_command_payload("help", response_url=...))
    finally:
        await handler.close_async()   # before the fake stops, or the client keeps reconnecting
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

import anyio
from aiohttp import WSMsgType, web
from aiohttp.web_request import FileField
from multidict import CIMultiDict

from tools.fake_slack_workspace import Reply, Workspace, make_user
from tools.slack_requests import (
    block_actions_body,
    block_actions_payload,
    event_body,
    event_payload,
    sign,
    slash_command_body,
    slash_command_payload,
    view_submission_body,
    view_submission_payload,
)

__all__ = [
    "Call",
    "FakeSlack",
    "block_actions_body",
    "block_actions_payload",
    "event_body",
    "event_payload",
    "sign",
    "slash_command_body",
    "slash_command_payload",
    "view_submission_body",
    "view_submission_payload",
]

# Web API fields that carry JSON; slack_sdk sends them as strings inside form or query parameters.
_JSON_FIELDS = frozenset({"blocks", "attachments", "view", "files", "metadata"})
# Uploads can exceed aiohttp's 1 MiB default request body limit.
_MAX_BODY = 64 * 1024 * 1024
# Test credentials the fake accepts unless told otherwise.
DEFAULT_BOT_TOKEN = "xoxb-test"
DEFAULT_APP_TOKEN = "xapp-1-test"


@dataclass(frozen=True)
class Call:
    """One request the fake received.

    ``method`` is the Web API method (``"chat.postMessage"``), or ``"response_url"``, ``"upload"``,
    ``"socket_ack"`` for the other routes. ``headers`` is case-insensitive. ``at`` is
    ``time.monotonic()`` on arrival. ``status``/``reply`` are what the fake answered.
    """

    method: str
    params: dict[str, Any]
    headers: Mapping[str, str]
    at: float
    path: str = ""
    body: bytes = b""
    status: int = 200
    reply: Reply = field(default_factory=dict)


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None
    times: int


@dataclass
class _Delay:
    seconds: float
    times: int
    where: Callable[[dict[str, Any]], bool] | None


class FakeSlack:
    """The fake Slack server. ``await FakeSlack().start()`` or ``async with FakeSlack() as fake``."""

    def __init__(
        self,
        bot_token: str = DEFAULT_BOT_TOKEN,
        *,
        app_token: str = DEFAULT_APP_TOKEN,
        workspace: Workspace | None = None,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.workspace = workspace or Workspace()
        if workspace is None:
            # The requester the request builders use by default, so users.info works out of the box.
            self.workspace.users["U0REQUESTER"] = make_user("U0REQUESTER", "ada", real_name="Ada Lovelace")
        self.calls: list[Call] = []
        self.base_url = ""
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, list[_Delay]] = {}
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._sockets: list[web.WebSocketResponse] = []
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._envelope_ids: Iterator[int] = itertools.count(1)

    # ---- lifecycle --------------------------------------------------------------------------

    async def start(self) -> Self:
        """Listen on 127.0.0.1 on an ephemeral port."""
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/response/{name}", self._response_url)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_get("/socket", self._socket)
        # A short grace period: stop() closes the websockets first, nothing else runs long.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self.workspace.base_url = self.base_url
        return self

    async def stop(self) -> None:
        """Close websockets and the server. Safe to call twice."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ---- what tests point the bot at ----------------------------------------------------------

    @property
    def api_url(self) -> str:
        """``base_url`` for ``AsyncWebClient`` / ``SLACK_API_URL``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "default") -> str:
        """A ``response_url`` on the fake; POSTs to it are recorded as ``"response_url"`` calls."""
        return f"{self.base_url}/response/{name}"

    # ---- seeded and observed state (delegated to the workspace) --------------------------------

    @property
    def users(self) -> dict[str, Reply]:
        """``users.info`` directory: ``fake.users["U1"] = {...}`` or ``fake.add_user("U1", "grace")``."""
        return self.workspace.users

    @property
    def usergroups(self) -> dict[str, list[str]]:
        """``usergroups.users.list`` directory: ``fake.usergroups["S0APPROVERS"] = ["U1", "U2"]``."""
        return self.workspace.usergroups

    def add_user(
        self, user_id: str, name: str, *, real_name: str | None = None, tz: str = "Europe/London"
    ) -> Reply:
        """Seed a user (id, name, real_name, profile.display_name, tz) and return it."""
        return self.workspace.add_user(user_id, name, real_name=real_name, tz=tz)

    def message(self, channel: str, ts: str) -> Reply | None:
        """The message as it stands now (after updates), or None if the fake never saw it."""
        return self.workspace.message(channel, ts)

    # ---- assertions helpers -------------------------------------------------------------------

    def of(self, method: str) -> list[Call]:
        """Calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def responses(self, name: str) -> list[Call]:
        """POSTs to ``response_url(name)``, in order."""
        return [c for c in self.of("response_url") if c.path == f"/response/{name}"]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - the bound is the point of this helper's API
        where: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait (at most ``timeout`` s) until ``count`` calls of ``method`` matching ``where`` arrived.

        Returns all matching calls so far (at least ``count``). On timeout raises ``TimeoutError``
        listing what did arrive, which is usually the quickest route to the bug.
        """

        def matching() -> list[Call]:
            return [c for c in self.of(method) if where is None or where(c)]

        try:
            with anyio.fail_after(timeout):
                while len(found := matching()) < count:
                    await self._changed.wait()
        except TimeoutError:
            seen = [c.method for c in self.calls]
            raise TimeoutError(
                f"waited {timeout}s for {count} matching {method!r} call(s), "
                f"got {len(matching())}; calls: {seen}"
            ) from None
        return found

    def fail_next(
        self,
        method: str,
        status: int = 429,
        *,
        retry_after: int | None = 1,
        times: int = 1,
        error: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail before any other processing.

        ``status=429`` → HTTP 429 + ``Retry-After`` + ``{"ok": false, "error": "ratelimited"}``;
        ``status=500`` (or 503, ...) → that status with ``{"ok": false, "error": "internal_error"}``;
        ``status=200, error="channel_not_found"`` → a normal ``ok: false`` reply. Works for any
        recorded route name too (``"response_url"``, ``"upload"``).
        """
        if error is None:
            error = "ratelimited" if status == 429 else "internal_error"
        failure = _Failure(status, error, retry_after if status == 429 else None, times)
        self._failures.setdefault(method, []).append(failure)

    def delay_next(
        self,
        method: str,
        seconds: float,
        *,
        times: int = 1,
        where: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """A slow Slack: the next ``times`` calls of ``method`` (whose params pass ``where``) are carried
        out and recorded at once — Slack has them — but answered only ``seconds`` later.

        So a test can kill the bot while such a call is in flight, knowing Slack received it.
        """
        self._delays.setdefault(method, []).append(_Delay(seconds, times, where))

    # ---- Socket Mode ------------------------------------------------------------------------

    async def wait_for_socket(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - bounded by design
        """Wait until a Socket Mode client is connected (it has been sent ``hello``)."""
        with anyio.fail_after(timeout):
            while not self._sockets:
                await self._changed.wait()

    async def drop_sockets(self) -> int:
        """Close every Socket Mode connection from Slack's side (a mid-session drop); how many."""
        dropped = list(self._sockets)
        for ws in dropped:
            await ws.close()
        return len(dropped)

    @property
    def sockets_opened(self) -> int:
        """How many Socket Mode connections were opened so far (``apps.connections.open`` answered ok)."""
        return sum(1 for call in self.of("apps.connections.open") if call.reply.get("ok"))

    async def socket_send(
        self,
        envelope_type: str,
        payload: dict[str, Any],
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - bounded by design
        envelope_id: str | None = None,
    ) -> dict[str, Any]:
        """Push an envelope to the connected client and return its ack (``{"envelope_id", "payload"?}``).

        ``envelope_type`` is ``"slash_commands"``, ``"interactive"`` or ``"events_api"``. Bounded by
        ``timeout`` (connection + ack); Bolt sends no ack when no listener handled the request.
        """
        envelope_id = envelope_id or f"env-{next(self._envelope_ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": envelope_type,
            "payload": payload,
            "accepts_response_payload": envelope_type != "events_api",
            "retry_attempt": 0,
            "retry_reason": "",
        }
        ack: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[envelope_id] = ack
        try:
            with anyio.fail_after(timeout):
                await self.wait_for_socket(timeout)
                await self._sockets[-1].send_json(envelope)
                return await ack
        except TimeoutError:
            state = "no ack (did a listener handle it?)" if self._sockets else "no client connected"
            raise TimeoutError(f"{envelope_type} envelope {envelope_id}: {state} within {timeout}s") from None
        finally:
            self._acks.pop(envelope_id, None)

    # ---- routes -------------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _read_params(request)
        failed = self._take_failure(method)
        if failed is not None:
            return self._record(request, method, params, *failed)
        auth_error = self._auth_error(method, request.headers.get("Authorization", ""))
        reply = {"ok": False, "error": auth_error} if auth_error else self.workspace.call(method, params)
        headers = {"X-OAuth-Scopes": ",".join(self.workspace.scopes)} if method == "auth.test" else {}
        response = self._record(request, method, params, 200, reply, headers)
        delay = self._take_delay(method, params)
        if delay:
            await asyncio.sleep(delay)  # done and recorded above; only the answer is late
        return response

    async def _response_url(self, request: web.Request) -> web.Response:
        params = await _read_params(request)
        failed = self._take_failure("response_url")
        if failed is not None:
            return self._record(request, "response_url", params, *failed)
        # Slack answers response_url POSTs with a plain "ok".
        return self._record(request, "response_url", params, 200, {}, {}, text="ok")

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        content = await request.read()
        params = {"file_id": file_id, "length": len(content)}
        failed = self._take_failure("upload")
        if failed is not None:
            return self._record(request, "upload", params, *failed, body=content)
        if not self.workspace.receive_upload(file_id, content):
            return self._record(
                request, "upload", params, 404, {}, {}, text="unknown upload url", body=content
            )
        # files.slack.com answers uploads in text/plain; slack_sdk only checks the status.
        return self._record(request, "upload", params, 200, {}, {}, text=f"OK - {len(content)}", body=content)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        # slack_sdk waits for nothing, but real Slack greets first; the client ignores non-envelopes.
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": len(self._sockets) + 1,
                "debug_info": {"host": "fake-slack", "approximate_connection_time": 3600},
                "connection_info": {"app_id": "A0ALMBOT"},
            }
        )
        self._sockets.append(ws)
        self._notify()
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_socket_text(request, msg.data)
        finally:
            self._sockets.remove(ws)
        return ws

    def _on_socket_text(self, request: web.Request, text: str) -> None:
        ack: dict[str, Any] = json.loads(text)
        self._record(request, "socket_ack", ack, 200, {}, {})
        waiter = self._acks.get(str(ack.get("envelope_id")))
        if waiter is not None and not waiter.done():
            waiter.set_result(ack)

    # ---- plumbing -------------------------------------------------------------------------------

    def _auth_error(self, method: str, authorization: str) -> str | None:
        # Socket Mode's connection URL is issued to the app-level token, everything else to the bot token.
        expected = self.app_token if method == "apps.connections.open" else self.bot_token
        if not authorization:
            return "not_authed"
        return None if authorization == f"Bearer {expected}" else "invalid_auth"

    def _take_delay(self, name: str, params: dict[str, Any]) -> float:
        queue = self._delays.get(name) or []
        delay = next((d for d in queue if d.where is None or d.where(params)), None)
        if delay is None:
            return 0.0
        delay.times -= 1
        if delay.times <= 0:
            queue.remove(delay)
        return delay.seconds

    def _take_failure(self, name: str) -> tuple[int, Reply, dict[str, str]] | None:
        queue = self._failures.get(name)
        if not queue:
            return None
        failure = queue[0]
        failure.times -= 1
        if failure.times <= 0:
            queue.pop(0)
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
        return failure.status, {"ok": False, "error": failure.error}, headers

    def _record(
        self,
        request: web.Request,
        method: str,
        params: dict[str, Any],
        status: int,
        reply: Reply,
        headers: dict[str, str],
        *,
        text: str | None = None,
        body: bytes = b"",
    ) -> web.Response:
        call = Call(
            method=method,
            params=params,
            headers=CIMultiDict(request.headers),
            at=time.monotonic(),
            path=request.path,
            body=body,
            status=status,
            reply=reply,
        )
        self.calls.append(call)
        self._notify()
        if text is not None:
            return web.Response(status=status, text=text, headers=headers)
        return web.json_response(reply, status=status, headers=headers)

    def _notify(self) -> None:
        # Wake every waiter once; each re-checks its own condition against the new state.
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string + body (JSON, form or multipart), with JSON-valued fields decoded."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.read()
        if raw:
            decoded: dict[str, Any] = json.loads(raw)
            params.update(decoded)
    elif request.content_type == "multipart/form-data":
        form = await request.post()
        params.update({k: _form_value(v) for k, v in form.items()})
    elif request.can_read_body:
        params.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
    return {k: _decode_json_field(k, v) for k, v in params.items()}


def _form_value(value: str | bytes | bytearray | FileField) -> str | bytes:
    if isinstance(value, FileField):
        return value.file.read()
    return value if isinstance(value, str) else bytes(value)


def _decode_json_field(key: str, value: Any) -> Any:
    if key not in _JSON_FIELDS or not isinstance(value, str) or value[:1] not in ("[", "{"):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value  # leave it for the assertion to show; Slack would answer invalid_blocks
