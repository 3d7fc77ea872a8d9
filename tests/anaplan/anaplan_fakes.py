"""A tiny fake Anaplan for the client tests: an auth service and API routes the test registers.

It is an ``httpx2.MockTransport`` handler, so the client under test runs unpatched: the fake sees
exactly the requests the client sends (``fake.requests``) and answers like Anaplan would. Time is a
``FakeTime``: ``sleep`` records the wait and advances ``clock`` instantly.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx2

from alm_bot.anaplan import AnaplanClient, BasicAuth, PollPolicy, RetryPolicy
from alm_bot.anaplan.auth import Credentials

API = "https://api.anaplan.test/2/0"
AUTH = "https://auth.anaplan.test"
USER = "builder@example.com"
PASSWORD = "correct horse battery staple"

TARGET = "8A2C7E1F0B3D4C5A9E8F7A6B5C4D3E2F"
SOURCE = "1B2C3D4E5F60718293A4B5C6D7E8F901"
REV_SOURCE = "AAAA0000BBBB1111CCCC2222DDDD3333"
REV_TARGET = "EEEE4444FFFF55550000666611117777"
TASK = "0123456789ABCDEF0123456789ABCDEF"
WORKSPACE = "8a81b09d5e8c6f27015ece3402487d33"

Answer = httpx2.Response | Callable[[httpx2.Request], httpx2.Response | Awaitable[httpx2.Response]]


class FakeTime:
    """A monotonic clock that only moves when the client sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        self.now += seconds


def envelope(
    key: str | None = None, value: Any = None, *, status: int = 200, **extra: Any
) -> httpx2.Response:
    """An Anaplan JSON answer: ``meta`` and ``status`` plus ``key: value`` (left out when key is None)."""
    body: dict[str, Any] = {
        "meta": {"schema": "https://api.anaplan.com/2/0/objects/x", **extra.pop("meta", {})},
        "status": {"code": status, "message": "Success" if status < 300 else "Failure"},
    }
    if key is not None:
        body[key] = value
    body.update(extra)
    return httpx2.Response(status, json=body)


def failure(status: int, message: str = "") -> httpx2.Response:
    """An error in the Integration-style envelope Anaplan uses (reference §7)."""
    return httpx2.Response(
        status,
        json={"status": {"code": status, "message": message}, "path": "/2/0/x", "timestamp": "2026-01-01"},
    )


def revision(rid: str = REV_SOURCE, name: str = "v1", **extra: Any) -> dict[str, Any]:
    return {
        "id": rid,
        "name": name,
        "createdOn": "2021-03-10T11:31:08Z",
        "createdBy": "8a81b09d5e8c6f27015ece3402487d33",
        "creationMethod": "User added revision",
        **extra,
    }


def created_task(task_id: str = TASK) -> dict[str, Any]:
    return {
        "taskId": task_id,
        "taskUrl": f"{API}/models/{TARGET}/alm/syncTasks/{task_id}",
        "taskState": "IN_PROGRESS",
        "creationTime": 1_700_000_000_000,
    }


def task_info(
    task_id: str = TASK, state: str = "IN_PROGRESS", result: dict[str, Any] | None = None
) -> dict[str, Any]:
    info: dict[str, Any] = {"taskId": task_id, "taskState": state, "creationTime": 1_700_000_000_000}
    if state != "IN_PROGRESS":
        info["currentStep"] = "Complete."
    else:
        info["currentStep"] = "Synchronizing."
    if result is not None:
        info["result"] = result
    return info


def sync_success() -> dict[str, Any]:
    return {"successful": True, "sourceRevisionId": REV_SOURCE, "targetRevisionId": REV_TARGET}


def report_success(kind: str = "comparisonReports") -> dict[str, Any]:
    return {
        "successful": True,
        "sourceRevisionId": REV_SOURCE,
        "targetRevisionId": REV_TARGET,
        "reportFileUrl": f"{API}/models/{TARGET}/alm/{kind}/{REV_TARGET}/{REV_SOURCE}",
    }


class FakeAnaplan:
    """Auth service plus API routes; every request the client sends is kept in ``requests``."""

    def __init__(self, *, token_lifetime: float = 35 * 60.0, api: str = API, auth: str = AUTH) -> None:
        self.api = httpx2.URL(api)
        self.auth = httpx2.URL(auth)
        self.token_lifetime = token_lifetime
        self.requests: list[httpx2.Request] = []
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.valid_tokens: set[str] = set()
        self.issued = 0
        self.logins = 0
        self.refreshes = 0
        self.check_login: Callable[[httpx2.Request], bool] = self.basic_login_is_correct
        self.auth_answers: dict[str, list[Answer]] = {}
        self.auth_delay_checkpoints = 3

    # --- registering answers -------------------------------------------------------------------

    def on(self, method: str, path: str, *answers: Answer) -> None:
        """Answer ``method path`` (relative to the API base) with each answer in turn; the last repeats."""
        self.routes[(method, path)] = list(answers)

    def on_auth(self, path: str, *answers: Answer) -> None:
        """Override the auth service's answer for ``path`` (e.g. /token/refresh)."""
        self.auth_answers[path] = list(answers)

    def revoke_tokens(self) -> None:
        self.valid_tokens.clear()

    # --- what the client sent ------------------------------------------------------------------

    def api_calls(self, method: str | None = None, path: str | None = None) -> list[httpx2.Request]:
        return [
            r
            for r in self.requests
            if r.url.host == self.api.host
            and r.url.path.startswith(self.api.path)
            and (method is None or r.method == method)
            and (path is None or self.api_path(r) == path)
        ]

    def auth_calls(self, path: str | None = None) -> list[httpx2.Request]:
        return [
            r
            for r in self.requests
            if r.url.path.startswith(self.auth.path.rstrip("/") + "/token/")
            and (path is None or r.url.path.endswith(path))
        ]

    def api_path(self, request: httpx2.Request) -> str:
        return request.url.path[len(self.api.path.rstrip("/")) :]

    # --- the app -------------------------------------------------------------------------------

    async def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        auth_prefix = self.auth.path.rstrip("/") + "/token/"
        if request.url.host == self.auth.host and request.url.path.startswith(auth_prefix):
            return await self._auth(request, request.url.path[len(self.auth.path.rstrip("/")) :])
        return await self._api(request)

    async def _answer(self, answers: list[Answer], request: httpx2.Request) -> httpx2.Response:
        answer = answers.pop(0) if len(answers) > 1 else answers[0]
        if isinstance(answer, httpx2.Response):
            return answer
        produced = answer(request)
        return produced if isinstance(produced, httpx2.Response) else await produced

    async def _auth(self, request: httpx2.Request, path: str) -> httpx2.Response:
        # Give concurrent callers a chance to pile up while a login is "in flight".
        for _ in range(self.auth_delay_checkpoints):
            await anyio.lowlevel.checkpoint()
        if path in self.auth_answers:
            return await self._answer(self.auth_answers[path], request)
        if path == "/token/authenticate":
            self.logins += 1
            if not self.check_login(request):
                return bad_credential()
            return self.issue(201, "Login successful")
        if path == "/token/refresh":
            self.refreshes += 1
            token = _token_of(request)
            if token not in self.valid_tokens:
                return bad_credential("Token expired")
            return self.issue(200, "Token refreshed")
        if path == "/token/validate":
            token = _token_of(request)
            if token not in self.valid_tokens:
                return bad_credential("Token expired")
            return httpx2.Response(
                200, json={"status": "SUCCESS", "tokenInfo": {"expiresAt": self.expires_at()}}
            )
        return httpx2.Response(404)

    def expires_at(self) -> int:
        return int((time.time() + self.token_lifetime) * 1000)

    def issue(self, status: int, message: str) -> httpx2.Response:
        self.issued += 1
        token = f"token-{self.issued}"
        self.valid_tokens.add(token)
        return httpx2.Response(
            status,
            json={
                "meta": {"validationUrl": f"{self.auth}/token/validate"},
                "status": "SUCCESS",
                "statusMessage": message,
                "tokenInfo": {
                    "expiresAt": self.expires_at(),
                    "tokenId": "5f4c1c2a-0000-4000-8000-000000000000",
                    "tokenValue": token,
                    "refreshTokenId": "7d1e2b3c-0000-4000-8000-000000000000",
                },
            },
        )

    def basic_login_is_correct(self, request: httpx2.Request) -> bool:
        expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        return request.headers.get("authorization") == f"Basic {expected}"

    async def _api(self, request: httpx2.Request) -> httpx2.Response:
        if _token_of(request) not in self.valid_tokens:
            return failure(401, "Not authenticated")
        answers = self.routes.get((request.method, self.api_path(request)))
        if answers is None:
            return failure(404, f"no route for {request.method} {self.api_path(request)}")
        return await self._answer(answers, request)


def bad_credential(message: str = "Invalid credentials") -> httpx2.Response:
    return httpx2.Response(401, json={"status": "FAILURE_BAD_CREDENTIAL", "statusMessage": message})


def _token_of(request: httpx2.Request) -> str:
    header = request.headers.get("authorization", "")
    return header.removeprefix("AnaplanAuthToken ")


def make_client(
    fake: FakeAnaplan,
    clock: FakeTime,
    *,
    auth: Credentials | None = None,
    retry: RetryPolicy | None = None,
    poll: PollPolicy | None = None,
    api_url: str = API,
    auth_url: str = AUTH,
) -> AnaplanClient:
    return AnaplanClient(
        auth=auth or BasicAuth(USER, PASSWORD),
        api_url=api_url,
        auth_url=auth_url,
        retry=retry or RetryPolicy(jitter=0.0),
        poll=poll or PollPolicy(),
        transport=httpx2.MockTransport(fake),
        sleep=clock.sleep,
        clock=clock.clock,
    )
