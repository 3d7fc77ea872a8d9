"""The whole Slack front end running for real, for scenario tests.

`open_stack()` starts the fake Slack, opens the services (sandbox Anaplan, a real SQLite file),
builds the Bolt app and serves it with uvicorn on an ephemeral 127.0.0.1 port behind
``POST /slack/events``. Tests then talk to it exactly as Slack does — signed HTTP requests — and
look at what the bot sent to the fake Slack, what the sandbox received and what the store holds.

The watcher runs only when a test says so (`SlackStack.settle`), on a clock the test moves
(`SlackStack.advance`, which moves the sandbox's time too), so nothing depends on wall time.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx2
from slack_bolt.async_app import AsyncApp
from starlette.applications import Starlette

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.slack import SlackNotifier, build_slack_app, slack_events_route
from alm_bot.slack.card_ref import card_location
from alm_bot.store import ApprovalRequest
from alm_bot.watcher import Watcher
from tests.live import drain_bolt_listeners, serving
from tools.fake_slack import (
    Call,
    FakeSlack,
    block_actions_body,
    sign,
    slash_command_body,
    view_submission_body,
)

SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
APPROVALS = "C0APPROVALS"
REQUESTER = "U0REQUESTER"  # ada
APPROVER = "U0APPROVER1"  # grace
SECOND_APPROVER = "U0APPROVER2"  # linus
OUTSIDER = "U0OUTSIDER"  # mallory: neither requester nor approver
WAIT = 10.0  # upper bound of every wait; a passing test never comes near it


class StackClock:
    """The core's clock (operations, store, watcher): the real time plus whatever the test advanced."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class SlackStack:
    fake: FakeSlack
    services: Services
    sandbox: Sandbox
    http: httpx2.AsyncClient
    watcher: Watcher
    clock: StackClock
    app: AsyncApp
    _names: dict[str, int] = field(default_factory=dict)

    # --- as Slack: signed requests ------------------------------------------------------------

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
        channel = posted.channel if posted else APPROVALS
        ts = posted.ts if posted else "1700000000.000001"
        body = block_actions_body(
            action_id,
            value,
            user_id=user,
            channel_id=channel,
            message_ts=ts,
            response_url=self.fake.response_url(name or self.response_name("click")),
        )
        return await self.send(body)

    async def submit(
        self, callback_id: str, values: dict[str, dict[str, Any]], *, user: str, private_metadata: str
    ) -> httpx2.Response:
        body = view_submission_body(callback_id, values, user_id=user, private_metadata=private_metadata)
        return await self.send(body)

    # --- the core -----------------------------------------------------------------------------

    async def request(self, request_id: str) -> ApprovalRequest:
        found = await self.services.store.get_request(request_id)
        assert found is not None, request_id
        return found

    async def only_request(self) -> ApprovalRequest:
        (found,) = await self.services.store.list_requests()
        return found

    async def eventually(self, check: Callable[[], Awaitable[bool]], what: str) -> None:
        """Poll ``check`` (a store read, say) until it holds; bounded by WAIT."""
        try:
            with anyio.fail_after(WAIT):
                while not await check():  # noqa: ASYNC110 — the store has no change event to wait on
                    await anyio.sleep(0.01)
        except TimeoutError:
            raise AssertionError(f"gave up waiting: {what}") from None

    async def has_task(self, request_id: str) -> bool:
        return (await self.request(request_id)).anaplan_task_id is not None

    async def state_becomes(self, request_id: str, *states: str) -> ApprovalRequest:
        async def reached() -> bool:
            return (await self.request(request_id)).state in states

        await self.eventually(reached, f"request {request_id} to become {' or '.join(states)}")
        return await self.request(request_id)

    async def settle(self) -> None:
        """Run the watcher until a pass finds nothing more to do (at the current clock)."""
        with anyio.fail_after(WAIT):
            while True:
                report = await self.watcher.tick()
                if not (report.expired or report.polled or report.delivered or report.busy):
                    return

    def advance(self, seconds: float) -> None:
        """Move time: the watcher's clock and the sandbox's."""
        self.clock.offset += timedelta(seconds=seconds)
        self.sandbox.advance(seconds)

    # --- what Slack shows ------------------------------------------------------------------------

    def card(self, request: ApprovalRequest) -> dict[str, Any]:
        posted = card_location(request)
        assert posted is not None, f"no card for {request.id}"
        message = self.fake.message(posted.channel, posted.ts)
        assert message is not None
        return message

    def ephemerals(self, user: str) -> list[Call]:
        return [c for c in self.fake.of("chat.postEphemeral") if c.params.get("user") == user]

    def sync_posts(self) -> int:
        return sum(
            1 for e in self.sandbox.request_log if e.method == "POST" and e.path.endswith("/alm/syncTasks")
        )


def text_of(message: dict[str, Any]) -> str:
    """Everything a person reads in a message: its text and every text inside its blocks."""
    return message.get("text", "") + "\n" + "\n".join(_texts(message.get("blocks") or []))


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


def button_values(message: dict[str, Any]) -> dict[str, str]:
    """action_id → value of the buttons in a message."""
    return {
        element["action_id"]: element["value"]
        for block in message.get("blocks") or []
        if block.get("type") == "actions"
        for element in block["elements"]
    }


@asynccontextmanager
async def open_stack(
    tmp_path: Path,
    *,
    approval: dict[str, Any] | None = None,
    task_duration: float = 0.0,
    fidelity: Fidelity | None = None,
    windows: list[dict[str, Any]] | None = None,
) -> AsyncIterator[SlackStack]:
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        fake.add_user(APPROVER, "grace", real_name="Grace Hopper")
        fake.add_user(SECOND_APPROVER, "linus", real_name="Linus Torvalds")
        fake.add_user(OUTSIDER, "mallory", real_name="Mallory Example")
        defaults = sandbox_defaults()
        defaults["approval"] = defaults["approval"] | (approval or {})
        if windows:
            defaults["windows"] = windows
        env = {
            "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        settings = load_settings(env=env, defaults=defaults)
        sandbox = Sandbox(task_duration=task_duration, rate_limit_per_second=None, fidelity=fidelity)
        clock = StackClock()
        async with open_services(settings, sandbox=sandbox, clock=clock.now) as services:
            app = build_slack_app(services)
            watcher = services.start_watcher(SlackNotifier(app.client, settings, services.ops))
            async with serving(
                Starlette(routes=[slack_events_route(app, services)]), lifespan="off"
            ) as base_url:
                async with httpx2.AsyncClient(base_url=base_url, timeout=WAIT) as http:
                    yield SlackStack(fake, services, sandbox, http, watcher, clock, app)
                await drain_bolt_listeners()


def card_payload(request_id: str, version: int = 1) -> str:
    return json.dumps({"v": version, "request": request_id}, separators=(",", ":"))
