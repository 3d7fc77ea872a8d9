"""The in-process rig of the fault matrices: serve's app, the sandbox over loopback HTTP, a fake Slack.

`inproc(tmp_path, database_url)` serves an `alm_bot.sandbox.Sandbox` with uvicorn on 127.0.0.1 (real
connections, so the Anaplan client's timeouts are real), starts a `FakeSlack`, opens the services on
``database_url`` — directly, or through a `TcpProxy` the test cuts (PostgreSQL) — and serves
`build_app(services)` with its lifespan (watcher, supervisor) as ``alm-bot serve`` does. No process is
spawned, so a matrix of dozens of cases stays within CI's budget. Faults are armed on the sandbox
object itself (`Sandbox.add_fault`, the same list ``POST /_sandbox/faults`` feeds); the sandbox's
clock is moved to finish tasks. What the tests read back is what users could see: the fake Slack's
log, the sandbox's request log and the database.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
from sqlalchemy.engine import make_url

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox, create_app
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.serve import build_app
from alm_bot.services import Services, open_services
from alm_bot.store import ApprovalRequest
from tests.live import WAIT, drain_bolt_listeners, eventually, serving
from tests.processes import clean_env, sandbox_config
from tests.reliability.signed_slack import APPROVER as APPROVER  # re-exported: tests import them here
from tests.reliability.signed_slack import REQUESTER as REQUESTER
from tests.reliability.signed_slack import SignedSlack
from tools.fake_slack import Call, FakeSlack
from tools.tcp_proxy import TcpProxy

BOT_TOKEN = "xoxb-matrix-41d0"
SIGNING_SECRET = "matrix-signing-secret-77aa"
APPROVALS = "C0APPROVALS"
FINAL = ("succeeded", "failed")
TASK_SECONDS = 600.0  # of the sandbox's clock: a task ends only when the test moves it


@dataclass
class Bot(SignedSlack):
    """alm-bot serving on ``url`` with its Anaplan (``sandbox``), Slack (``fake``) and services."""

    sandbox: Sandbox
    fake: FakeSlack
    services: Services
    url: str
    http: httpx2.AsyncClient
    proxy: TcpProxy | None
    signing_secret: str = SIGNING_SECRET

    async def carded(self) -> ApprovalRequest:
        """The only request, once its card is in Slack."""
        found: list[ApprovalRequest] = []

        async def posted() -> bool:
            requests = await self.services.store.list_requests()
            found[:] = [r for r in requests if r.card_ref is not None]
            return len(found) == 1

        await eventually(posted, "the approval card")
        return found[0]

    async def final(self, request_id: str, *, timeout: float = WAIT) -> ApprovalRequest:  # noqa: ASYNC109
        """Wait (bounded) until the request is final, moving Anaplan's clock so tasks end at once.

        The clock moves at most once per real second: moved at every poll, a wait of a lease (10 s)
        carried Anaplan's clock past its 48 h retention, so a finished sync task vanished from the
        target's task list before recovery could look for it (the product then rightly failed the
        request as unprovable: a test artefact that showed only on a quiet, fast-polling machine).
        """
        found: list[ApprovalRequest] = []
        moved_at = [-1.0]

        async def ended() -> bool:
            if time.monotonic() - moved_at[0] >= 1.0:
                moved_at[0] = time.monotonic()
                self.sandbox.advance(TASK_SECONDS + 1)
            try:
                current = await self.services.store.get_request(request_id)
            except ConnectionError:  # the proxy is cut right now
                return False
            found[:] = [current] if current is not None and current.state in FINAL else []
            return bool(found)

        await eventually(ended, f"request {request_id} to be final", timeout=timeout)
        return found[0]

    async def outbox_empty(self, *, timeout: float = WAIT) -> None:  # noqa: ASYNC109
        async def empty() -> bool:
            try:
                return not await self.services.store.list_outbox(sent=False)
            except ConnectionError:  # the proxy is cut right now
                return False

        await eventually(empty, "every notice in the outbox to be delivered", timeout=timeout)

    def sync_posts(self, status: int | None = None) -> int:
        return sum(
            1
            for e in self.sandbox.request_log
            if e.method == "POST" and e.path.endswith("/syncTasks") and status in (None, e.status)
        )

    def posts(self, where: Callable[[Call], bool] = lambda c: True) -> list[Call]:
        return [c for c in self.fake.of("chat.postMessage") if c.status == 200 and where(c)]

    async def assert_promises(self) -> None:
        """Every request final, one successful sync POST per request that started one, no task id
        twice, and no Slack message (channel, thread, text) twice."""
        requests = await self.services.store.list_requests()
        assert all(r.state in FINAL for r in requests), [(r.id, r.state) for r in requests]
        claimed = [r.anaplan_task_id for r in requests if r.anaplan_task_id]
        assert len(claimed) == len(set(claimed)), claimed
        assert self.sync_posts(status=201) <= len(requests)
        assert self.fake.repeated_posts() == []


def _settings_env(fake: FakeSlack, sandbox_url: str, database_url: str, config: Path) -> dict[str, str]:
    return clean_env(
        ANAPLAN_API_URL=f"{sandbox_url}/2/0",
        ANAPLAN_AUTH_URL=sandbox_url,
        ANAPLAN_USERNAME="admin@sandbox.example",
        ANAPLAN_PASSWORD="sandbox",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake.api_url,
        ALM_BOT_DATABASE_URL=database_url,
    )


@asynccontextmanager
async def inproc(
    tmp_path: Path, database_url: str, *, proxied: bool = False, lease_seconds: float = 3
) -> AsyncIterator[Bot]:
    """The sandbox over HTTP, the fake Slack, and serve's app on ``database_url`` (through a proxy)."""
    config = sandbox_config(tmp_path)
    watcher = (
        f"\n[watcher]\npoll_min_seconds = 0.05\npoll_max_seconds = 0.5\nlease_seconds = {lease_seconds}\n"
    )
    config.write_text(config.read_text() + watcher + "\n[anaplan]\ntimeout_seconds = 1\n")
    # Recovery proves a start by the finished task's revisions, which only the rich result shape shows;
    # which task gets which shape is drawn per task number (a plan's own summary and report tasks
    # shift the draw), so pin it, as `tests.reliability.rig` does.
    rich = Fidelity(result_shapes="rich")
    sandbox = Sandbox(task_duration=TASK_SECONDS, rate_limit_per_second=None, fidelity=rich)
    async with AsyncExitStack() as stack:
        fake = await stack.enter_async_context(FakeSlack(bot_token=BOT_TOKEN))
        fake.add_user(APPROVER, "grace", real_name="Grace Hopper")
        sandbox_url = await stack.enter_async_context(serving(create_app(sandbox)))
        proxy = None
        if proxied:
            server = make_url(database_url)
            proxy = await stack.enter_async_context(TcpProxy(server.host or "127.0.0.1", server.port or 5432))
            database_url = server.set(port=proxy.port).render_as_string(hide_password=False)
        env = _settings_env(fake, sandbox_url, database_url, config)
        settings = load_settings(env=env, config_file=config)
        services = await stack.enter_async_context(open_services(settings))
        url = await stack.enter_async_context(serving(build_app(services)))
        http = await stack.enter_async_context(httpx2.AsyncClient(timeout=WAIT))
        yield Bot(sandbox, fake, services, url, http, proxy)
        await drain_bolt_listeners()
