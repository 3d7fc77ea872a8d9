"""The whole product in-process, for end-to-end stories: fake Slack, the sandbox, SQLite, `serve`'s app.

`story_world(tmp_path)` starts what outlives a restart of alm-bot — the fake Slack, the Anaplan
sandbox and the settings (one SQLite file). `running(world)` opens the services and serves
`build_app(services)` with its lifespan (watcher, MCP sessions, Socket Mode) on an ephemeral
loopback port, as ``alm-bot serve`` does; leave it and enter it again to restart alm-bot.

Stories then act as Slack does (signed requests to ``/slack/events``) and as an assistant does (MCP
over HTTP with a bearer token), and read what the fake Slack received; waits on the store are on
the lifecycle's change event (`tests.world.until_changed`: alm-bot runs in this process). The
watcher runs on its own in the app's lifespan, on the real clock; only the sandbox's clock is moved,
to finish Anaplan tasks.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2

from alm_bot.config import Settings, load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.serve import build_app
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.store import ApprovalRequest
from tests.live import WAIT, drain_bolt_listeners, serving
from tests.world import button_values, until_changed
from tools.fake_slack import Call, FakeSlack, block_actions_body, sign, slash_command_body
from tools.fake_slack_workspace import dm_channel_id

BOT_TOKEN = "xoxb-story-5d7e1f0a"
SIGNING_SECRET = "story-signing-secret-c3b9"
MCP_TOKEN = "story-mcp-token-81fa2e-0000000000000"
APPROVALS = "C0APPROVALS"
REQUESTER = "U0REQUESTER"  # ada, the fake's default command user
APPROVER = "U0APPROVER1"  # grace
SYNC_SECONDS = 30.0
"""Sandbox seconds an Anaplan task runs: long, so a task finishes only when a story moves the clock."""

# Quick polls, so a finished task is noticed within a fraction of a second of real time.
_FAST_WATCHER = {"poll_min_seconds": 0.05, "poll_max_seconds": 0.2}


@dataclass
class World:
    """What alm-bot talks to, and its database: everything that survives a restart."""

    fake: FakeSlack
    sandbox: Sandbox
    settings: Settings

    def finish_anaplan_tasks(self) -> None:
        """Move the sandbox's time past the end of every running task."""
        self.sandbox.advance(SYNC_SECONDS + 1)

    def sync_posts(self) -> int:
        """How many sync tasks Anaplan was asked to start."""
        return sum(
            1 for e in self.sandbox.request_log if e.method == "POST" and e.path.endswith("/syncTasks")
        )

    # --- what Slack received -------------------------------------------------------------------

    async def card(self) -> Call:
        """The approval card's post in the approvals channel (waits for it)."""
        (post, *_) = await self.fake.wait_for(
            "chat.postMessage",
            where=lambda c: c.params.get("channel") == APPROVALS and not c.params.get("thread_ts"),
            timeout=WAIT,
        )
        return post

    async def thread_replies(self, card: Call, *, containing: str, count: int = 1) -> list[Call]:
        """Replies in the card's thread whose text contains ``containing`` (waits for ``count``)."""
        ts = card.reply["ts"]
        return await self.fake.wait_for(
            "chat.postMessage",
            count=count,
            where=lambda c: c.params.get("thread_ts") == ts and containing in c.params.get("text", ""),
            timeout=WAIT,
        )

    async def direct_messages(self, user: str, *, containing: str, count: int = 1) -> list[Call]:
        """Direct messages to ``user`` whose text contains ``containing`` (waits for ``count``)."""
        channel = dm_channel_id(user)
        return await self.fake.wait_for(
            "chat.postMessage",
            count=count,
            where=lambda c: (
                c.params.get("channel") in (channel, user) and containing in c.params.get("text", "")
            ),
            timeout=WAIT,
        )


@asynccontextmanager
async def story_world(tmp_path: Path, *, socket_mode: bool = False) -> AsyncIterator[World]:
    """Fake Slack (approvers known by name), a sandbox whose tasks wait for the clock, settings.

    The configuration is `alm-bot serve --sandbox`'s: aliases dev/test/prod, prod protected,
    approvers U0APPROVER1/U0APPROVER2, cards in C0APPROVALS. Slack comes over HTTP (signing secret),
    or with ``socket_mode`` over the fake's websocket (app token, no signing secret).
    """
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        fake.add_user(APPROVER, "grace", real_name="Grace Hopper")
        slack = (
            {"SLACK_APP_TOKEN": fake.app_token} if socket_mode else {"SLACK_SIGNING_SECRET": SIGNING_SECRET}
        )
        variables = slack | {
            "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_API_URL": fake.api_url,
            "ALM_BOT_MCP_TOKENS": f"{MCP_TOKEN}={REQUESTER}:Ada Lovelace",
        }
        defaults = sandbox_defaults() | {"watcher": _FAST_WATCHER}
        settings = load_settings(env=variables, defaults=defaults)
        sandbox = Sandbox(task_duration=SYNC_SECONDS, rate_limit_per_second=None)
        yield World(fake, sandbox, settings)


@dataclass
class Running:
    """alm-bot serving the world on ``base_url``."""

    world: World
    services: Services
    base_url: str
    http: httpx2.AsyncClient

    async def slash(self, text: str, *, user: str = REQUESTER, reply_to: str = "cmd") -> httpx2.Response:
        """``/alm <text>`` typed by ``user``, signed as Slack signs it."""
        fake = self.world.fake
        body = slash_command_body(text, response_url=fake.response_url(reply_to), user_id=user)
        return await self._post(body)

    async def click(self, card: Call, action_id: str, *, user: str) -> httpx2.Response:
        """``user`` clicks the button ``action_id`` on the card as it stands now in Slack."""
        channel, ts = card.params["channel"], card.reply["ts"]
        message = self.world.fake.message(channel, ts)
        assert message is not None, f"the fake has no message {channel}/{ts}"
        body = block_actions_body(
            action_id,
            button_values(message)[action_id],
            user_id=user,
            channel_id=channel,
            message_ts=ts,
            message=message,
            response_url=self.world.fake.response_url(f"click-{action_id}-{user}"),
        )
        return await self._post(body)

    async def _post(self, body: str) -> httpx2.Response:
        return await self.http.post("/slack/events", content=body, headers=sign(body, SIGNING_SECRET))

    async def request(self, request_id: str) -> ApprovalRequest:
        return await self.services.ops.get_request(request_id)

    async def only_request(self) -> ApprovalRequest:
        async def one() -> ApprovalRequest | None:
            found = await self.services.store.list_requests()
            return found[0] if len(found) == 1 else None

        return await until_changed(self.services.changes, one, "one request in the store")

    async def state_becomes(self, request_id: str, state: str) -> ApprovalRequest:
        async def reached() -> ApprovalRequest | None:
            found = await self.request(request_id)
            return found if found.state == state else None

        return await until_changed(self.services.changes, reached, f"request {request_id} to become {state}")


@asynccontextmanager
async def running(world: World) -> AsyncIterator[Running]:
    """Open the services and serve `build_app` until the block ends (then shut down as on SIGTERM)."""
    async with (
        open_services(world.settings, sandbox=world.sandbox) as services,
        serving(build_app(services)) as base_url,
    ):
        async with httpx2.AsyncClient(base_url=base_url, timeout=WAIT) as http:
            yield Running(world, services, base_url, http)
        # Bolt runs listeners on after it answered Slack; let them end before the app shuts down.
        await drain_bolt_listeners()
