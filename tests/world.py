"""The one test world: sandbox Anaplan + real store + core + fake Slack + Bolt (+ an MCP client).

``open_world(tmp_path)`` (or the ``world`` fixture in ``tests/conftest.py``) builds, in-process:

- the Anaplan sandbox (``task_duration`` seconds of *its* clock per task, which `World.advance` moves);
- the store: a SQLite file under ``tmp_path``, or any ``database_url`` (PostgreSQL too);
- the core (`open_services`) on a `Clock` the test moves, and a watcher that runs only when a test
  says so (`World.settle`), so nothing depends on wall time;
- the fake Slack (``tools/fake_slack.py``, on loopback: Bolt's Web API client needs a socket) with
  the sandbox's approvers, and the Bolt app behind our real ``POST /slack/events`` edge. Slack's
  requests are signed and dispatched **in-process** (ASGI, no uvicorn, no port): signature check,
  replay guard, payload parsing and Bolt's own dispatch all run as they do in production;
- on demand, an in-process MCP client over the same core (`World.mcp`), and the watcher running in
  the background (`World.watching`) for tools that wait.

Waiting: `World.until` waits on the lifecycle's change event (`alm_bot.changes.Changes.wait_until`),
re-checking a little for the few writes that publish no change (delivery receipts), and gives up
after `WAIT` seconds; the fake Slack's `wait_for` waits on its own arrival event.

``slack=False`` builds the core alone with a `RecordingNotifier` (the one test double: a plain
implementation of the `Notifier` protocol the Slack front end plugs into) instead of Slack.
Tests whose subject *is* a socket (uvicorn, Socket Mode, processes) keep `tests.live`,
`tests.story_stack` and `tests.reliability.rig`.
"""

from __future__ import annotations

import atexit
import json
import math
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import anyio
import httpx2
from mcp import Client
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette

from alm_bot.actor import Actor, Origin
from alm_bot.changes import Changes
from alm_bot.config import load_settings
from alm_bot.mcp import build_mcp_server
from alm_bot.notify import DeliveryReceipt, Notice, Notifier
from alm_bot.operations import Operations
from alm_bot.sandbox import Sandbox
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.slack import SlackNotifier, build_slack_app, slack_events_route
from alm_bot.slack.card_ref import card_location
from alm_bot.store import ApprovalRequest, Store
from alm_bot.watcher import Watcher
from tests.live import drain_bolt_listeners
from tools.fake_slack import (
    Call,
    FakeSlack,
    block_actions_body,
    sign,
    slash_command_body,
    view_submission_body,
)

__all__ = [
    "ADA",
    "APPROVALS",
    "APPROVER",
    "BOT_TOKEN",
    "GRACE",
    "LINUS",
    "MALLORY",
    "OUTSIDER",
    "REQUESTER",
    "SECOND_APPROVER",
    "SECRET",
    "WAIT",
    "Clock",
    "RecordingNotifier",
    "World",
    "actor",
    "button_values",
    "card_payload",
    "copied_if_new_sqlite",
    "migrated_sqlite_copy",
    "open_world",
    "text_of",
    "until_changed",
]

T = TypeVar("T")

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
APPROVALS = "C0APPROVALS"
REQUESTER = "U0REQUESTER"  # ada: the fake's default command user, and the MCP actor
APPROVER = "U0APPROVER1"  # grace
SECOND_APPROVER = "U0APPROVER2"  # linus
OUTSIDER = "U0OUTSIDER"  # mallory: neither requester nor approver
WAIT = 5.0
"""Upper bound of every wait; a passing test never comes near it."""
_RECHECK = 0.1  # how often `until` re-reads when no change event came (delivery receipts publish none)
_NAMES = {REQUESTER: "Ada Lovelace", APPROVER: "Grace Hopper", SECOND_APPROVER: "Linus Torvalds"}


def actor(user: str = REQUESTER, origin: Origin = "slack") -> Actor:
    """The `Actor` a front end would build for one of the world's people."""
    return Actor(user, _NAMES.get(user, "Mallory Example"), origin)


ADA = actor(REQUESTER)
GRACE = actor(APPROVER)
LINUS = actor(SECOND_APPROVER)
MALLORY = actor(OUTSIDER)


class Clock:
    """The core's UTC "now" (operations, store, watcher): the real time plus what the test advanced."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def now(self) -> datetime:
        return self()

    def advance(self, seconds: float) -> None:
        self.offset += timedelta(seconds=seconds)


@dataclass
class RecordingNotifier:
    """Records notices; fails the next `fail_times` deliveries to show that retries work."""

    delivered: list[Notice] = field(default_factory=list)
    attempts: int = 0
    fail_times: int = 0

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        self.attempts += 1
        if self.fail_times > 0:
            self.fail_times -= 1
            raise ConnectionError("Slack is down")
        self.delivered.append(notice)
        if notice.kind == "approval_needed":
            return DeliveryReceipt(card_ref=f"{APPROVALS} 1700000000.{notice.id:06d}")
        return None

    def kinds(self, destination: str | None = None) -> list[str]:
        return [n.kind for n in self.delivered if destination is None or n.destination == destination]


@dataclass
class World:
    """Everything a test talks to and looks at. Slack parts are None when built with ``slack=False``."""

    services: Services
    sandbox: Sandbox
    clock: Clock
    notifier: Notifier
    fake: FakeSlack = None  # type: ignore[assignment]
    app: AsyncApp = None  # type: ignore[assignment]
    http: httpx2.AsyncClient = None  # type: ignore[assignment]
    _names: dict[str, int] = field(default_factory=dict)

    @property
    def ops(self) -> Operations:
        return self.services.ops

    @property
    def watcher(self) -> Watcher:
        assert self.services.watcher is not None
        return self.services.watcher

    # --- as Slack: signed requests, dispatched in-process ---------------------------------------

    async def send(self, body: str, headers: dict[str, str] | None = None) -> httpx2.Response:
        return await self.http.post("/slack/events", content=body, headers=headers or sign(body, SECRET))

    def response_name(self, prefix: str = "cmd") -> str:
        """A fresh response_url name, so each request's answers can be told apart."""
        self._names[prefix] = self._names.get(prefix, 0) + 1
        return f"{prefix}-{self._names[prefix]}"

    async def command(
        self, text: str, *, user: str = REQUESTER, name: str | None = None
    ) -> tuple[httpx2.Response, str]:
        """Type ``/alm <text>``; returns the HTTP reply and the response_url name of the command."""
        name = name or self.response_name()
        body = slash_command_body(text, response_url=self.fake.response_url(name), user_id=user)
        return await self.send(body), name

    async def answer(self, name: str) -> dict[str, Any]:
        """The (first) message the bot sent to the command's response_url."""
        (call, *_) = await self.fake.wait_for(
            "response_url", where=lambda c: c.path == f"/response/{name}", timeout=WAIT
        )
        return call.params

    async def ask(self, text: str, *, user: str = REQUESTER) -> dict[str, Any]:
        """Type ``/alm <text>`` and return the answer that came through the response_url."""
        reply, name = await self.command(text, user=user)
        assert reply.status_code == 200, reply.text
        return await self.answer(name)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str,
        request: ApprovalRequest | None = None,
        name: str | None = None,
    ) -> httpx2.Response:
        """Click a button on the card of ``request`` (or on some message in the approvals channel)."""
        posted = card_location(request)
        body = block_actions_body(
            action_id,
            value,
            user_id=user,
            channel_id=posted.channel if posted else APPROVALS,
            message_ts=posted.ts if posted else "1700000000.000001",
            response_url=self.fake.response_url(name or self.response_name("click")),
        )
        return await self.send(body)

    async def submit(
        self, callback_id: str, values: dict[str, dict[str, Any]], *, user: str, private_metadata: str
    ) -> httpx2.Response:
        body = view_submission_body(callback_id, values, user_id=user, private_metadata=private_metadata)
        return await self.send(body)

    # --- as an assistant: MCP in-process -----------------------------------------------------------

    @asynccontextmanager
    async def mcp(self, *, read_only: bool = False, user: str = REQUESTER) -> AsyncIterator[Client]:
        """An MCP client on this world's core, acting as ``user`` (as stdio does)."""
        server = build_mcp_server(self.ops, read_only=read_only, default_actor=actor(user, "mcp"))
        async with Client(server) as client:
            yield client

    @asynccontextmanager
    async def watching(self, **options: Any) -> AsyncIterator[Watcher]:
        """A watcher (`Watcher` ``options``) running in the background, as in ``serve``, until the
        block ends; it stops between two passes, never inside one."""
        watcher = self.services.start_watcher(self.notifier, **{"idle_seconds": 0.02, **options})
        async with anyio.create_task_group() as tg:
            tg.start_soon(watcher.run)
            try:
                yield watcher
            finally:
                watcher.stop()

    # --- the core ----------------------------------------------------------------------------------

    async def request(self, request_id: str) -> ApprovalRequest:
        found = await self.services.store.get_request(request_id)
        assert found is not None, request_id
        return found

    async def only_request(self) -> ApprovalRequest:
        (found,) = await self.services.store.list_requests()
        return found

    async def until(self, check: Callable[[], Awaitable[T | None]], what: str) -> T:
        """Wait until ``check()`` returns a value (returned), on the lifecycle's change event."""
        return await until_changed(self.services.changes, check, what)

    async def eventually(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """`until` for a yes/no check."""

        async def held() -> bool | None:
            return True if await check() else None

        await self.until(held, what)

    async def has_task(self, request_id: str) -> bool:
        return (await self.request(request_id)).anaplan_task_id is not None

    async def state_becomes(self, request_id: str, *states: str) -> ApprovalRequest:
        async def reached() -> ApprovalRequest | None:
            found = await self.request(request_id)
            return found if found.state in states else None

        return await self.until(reached, f"request {request_id} to become {' or '.join(states)}")

    def new_watcher(self, **options: Any) -> Watcher:
        """A watcher with its own lease owner, as a second process (or a restarted one) would have."""
        return Watcher(self.ops.watching, self.notifier, clock=self.clock, **options)

    async def pass_time(self, ticks: int = 5, seconds: float = 60) -> None:
        """``ticks`` times: move the clocks ``seconds`` on (sandbox tasks finish) and tick the watcher."""
        for _ in range(ticks):
            self.advance(seconds)
            await self.watcher.tick()

    async def settle(self) -> None:
        """Run the watcher until a pass finds nothing more to do (at the current clock)."""
        with anyio.fail_after(WAIT):
            while True:
                report = await self.watcher.tick()
                if not (report.expired or report.polled or report.delivered or report.busy):
                    return

    def advance(self, seconds: float) -> None:
        """Move time: the core's clock and the sandbox's."""
        self.clock.advance(seconds)
        self.sandbox.advance(seconds)

    # --- what Slack and Anaplan saw --------------------------------------------------------------

    def card(self, request: ApprovalRequest) -> dict[str, Any]:
        posted = card_location(request)
        assert posted is not None, f"no card for {request.id}"
        message = self.fake.message(posted.channel, posted.ts)
        assert message is not None
        return message

    def ephemerals(self, user: str) -> list[Call]:
        return [c for c in self.fake.of("chat.postEphemeral") if c.params.get("user") == user]

    def sync_posts(self) -> int:
        """How many sync tasks Anaplan was asked to start."""
        return sum(
            1 for e in self.sandbox.request_log if e.method == "POST" and e.path.endswith("/syncTasks")
        )


async def until_changed(changes: Changes, check: Callable[[], Awaitable[T | None]], what: str) -> T:
    """``check()``'s first value, re-checked after each change ``changes`` publishes (and every
    `_RECHECK` s, for the writes that publish none); `AssertionError` naming ``what`` after `WAIT` s."""
    try:
        with anyio.fail_after(WAIT):
            found = await changes.wait_until(check, max_wait=math.inf, recheck=_RECHECK)
    except TimeoutError:
        raise AssertionError(f"gave up after {WAIT:g}s waiting for {what}") from None
    assert found is not None
    return found


# --- reading what Slack shows ----------------------------------------------------------------------


def text_of(message: Mapping[str, Any]) -> str:
    """Everything a person reads in a message: its text and every text inside its blocks."""
    return str(message.get("text", "")) + "\n" + "\n".join(_texts(message.get("blocks") or []))


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["text"]] if isinstance(node.get("text"), str) else []
        return found + [
            t
            for key, value in node.items()
            if key != "text" or not isinstance(value, str)
            for t in _texts(value)
        ]
    if isinstance(node, list):
        return [t for item in node for t in _texts(item)]
    return []


def button_values(message: Mapping[str, Any]) -> dict[str, str]:
    """action_id → value of the buttons in a message."""
    return {
        element["action_id"]: element["value"]
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    }


def card_payload(request_id: str, version: int = 1) -> str:
    """The value a card's button carries for ``request_id``."""
    return json.dumps({"v": version, "request": request_id}, separators=(",", ":"))


_template: list[Path] = []


async def migrated_sqlite_copy(path: Path) -> Path:
    """``path``: a SQLite database at head, copied from one this process migrated once.

    A file already there is kept as it is: a world opened again on the same ``tmp_path`` is alm-bot
    restarted on its database.
    """
    if not _template:
        template = _new_template_path()
        store = Store(f"sqlite:///{template}")
        try:
            await store.upgrade()
        finally:
            await store.dispose()  # the last connection closes: the WAL is folded into the file
        _template.append(template)
    return _copy_unless_there(_template[0], path)


async def copied_if_new_sqlite(database_url: str) -> bool:
    """Whether ``database_url`` named a SQLite file not there yet, now a migrated copy (no upgrade due)."""
    prefix = "sqlite:///"
    if not database_url.startswith(prefix) or _exists(path := Path(database_url.removeprefix(prefix))):
        return False
    await migrated_sqlite_copy(path)
    return True


def _exists(path: Path) -> bool:
    return path.exists()


def _new_template_path() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="alm-bot-world-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder / "head.db"


def _copy_unless_there(template: Path, path: Path) -> Path:
    if not path.exists():
        shutil.copyfile(template, path)
    return path


def _defaults(approval: Mapping[str, Any] | None, config: Mapping[str, Any] | None) -> Any:
    defaults = sandbox_defaults()
    for section, values in {"approval": approval or {}, **(config or {})}.items():
        # A table adds to the sandbox's; a list (``windows``) replaces it.
        defaults[section] = {**defaults.get(section, {}), **values} if isinstance(values, Mapping) else values
    return defaults


@asynccontextmanager
async def open_world(
    tmp_path: Path | None = None,
    *,
    database_url: str | None = None,
    slack: bool = True,
    approval: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    task_duration: float = 0.0,
    fidelity: Fidelity | None = None,
) -> AsyncIterator[World]:
    """Build the world; ``approval``/``config`` overlay sections of the sandbox defaults.

    The database is ``database_url``, else a SQLite file in ``tmp_path``. The defaults are
    ``alm-bot serve --sandbox``'s: aliases dev/test/prod, prod protected,
    approvers U0APPROVER1/U0APPROVER2, cards in C0APPROVALS.
    """
    if database_url is None:
        assert tmp_path is not None, "open_world needs tmp_path or database_url"
        database_url = f"sqlite:///{tmp_path / 'alm-bot.db'}"
    # A new SQLite file is a copy of one migrated once per test process (migrations cost most of a
    # world's set-up); any other database is migrated here.
    migrate = not await copied_if_new_sqlite(database_url)
    variables = {
        "ALM_BOT_DATABASE_URL": database_url,
        "ALM_BOT_MCP_ACTOR": f"{REQUESTER}:{_NAMES[REQUESTER]}",
        **(env or {}),
    }
    sandbox = Sandbox(task_duration=task_duration, rate_limit_per_second=None, fidelity=fidelity)
    clock = Clock()
    if not slack:
        settings = load_settings(env=variables, defaults=_defaults(approval, config))
        async with open_services(settings, sandbox=sandbox, clock=clock, upgrade=migrate) as services:
            notifier = RecordingNotifier()
            services.start_watcher(notifier)
            yield World(services, sandbox, clock, notifier)
        return
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        fake.add_user(APPROVER, "grace", real_name="Grace Hopper")
        fake.add_user(SECOND_APPROVER, "linus", real_name="Linus Torvalds")
        fake.add_user(OUTSIDER, "mallory", real_name="Mallory Example")
        variables |= {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        settings = load_settings(env=variables, defaults=_defaults(approval, config))
        async with open_services(settings, sandbox=sandbox, clock=clock, upgrade=migrate) as services:
            app = build_slack_app(services)
            slack_notifier = SlackNotifier(app.client, settings, services.ops)
            services.start_watcher(slack_notifier)
            edge = Starlette(routes=[slack_events_route(app, services)])
            transport = httpx2.ASGITransport(app=edge)
            async with httpx2.AsyncClient(transport=transport, base_url="http://slack.test") as http:
                yield World(services, sandbox, clock, slack_notifier, fake, app, http)
            await drain_bolt_listeners()
