"""The reliability rig: alm-bot as an operator runs it, in processes, against Anaplan and Slack stand-ins.

`rig(tmp_path, database_url, …)` starts what must outlive any alm-bot process — an ``alm-bot
sandbox`` process (Anaplan; tasks run ``task_duration`` seconds of its clock, which the rig can move)
and a `FakeSlack` — and writes the operator's TOML configuration (`tests.processes.sandbox_config`
plus a quick ``[watcher]``). `Rig.serve()` then runs ``alm-bot serve`` (no ``--sandbox``: it logs in
to the sandbox process over HTTP like it would to Anaplan) as many times, and as many at once, as a
test needs; `Serve.kill()` is ``kill -9``.

What the rig reads back is what users and operators could see: Slack calls the fake received, the
sandbox's request log (``GET /_sandbox/requests``), and the database (a `Store` on the same URL).
Every process is stopped on the way out; everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2

from alm_bot.store import ApprovalRequest, Store
from tests.live import WAIT, eventually
from tests.processes import Spawned, clean_env, sandbox_config, spawn_alm_bot
from tests.reliability.signed_slack import APPROVER as APPROVER  # re-exported: tests import them here
from tests.reliability.signed_slack import REQUESTER as REQUESTER
from tests.reliability.signed_slack import SignedSlack
from tools.fake_slack import Call, FakeSlack
from tools.fake_slack_workspace import dm_channel_id

BOT_TOKEN = "xoxb-reliability-2c7d"
SIGNING_SECRET = "reliability-signing-secret-9f1e"
APPROVALS = "C0APPROVALS"


@dataclass
class Serve(SignedSlack):
    """One running ``alm-bot serve``, answering Slack as `SignedSlack`."""

    spawned: Spawned
    url: str
    http: httpx2.AsyncClient
    fake: FakeSlack
    signing_secret: str = SIGNING_SECRET

    async def kill(self) -> None:
        """``kill -9``: no shutdown, no lease released, nothing flushed."""
        self.spawned.process.send_signal(signal.SIGKILL)
        with anyio.fail_after(WAIT):
            await self.spawned.process.wait()


@dataclass
class Rig:
    """Anaplan (a sandbox process), Slack (a fake), a database and a configuration file."""

    tmp: Path
    fake: FakeSlack
    sandbox_url: str
    database_url: str
    config: Path
    store: Store
    http: httpx2.AsyncClient
    serves: int = 0

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of an ``alm-bot serve`` pointed at the sandbox process and the fake Slack."""
        return clean_env(
            ANAPLAN_API_URL=f"{self.sandbox_url}/2/0",
            ANAPLAN_AUTH_URL=self.sandbox_url,
            ANAPLAN_USERNAME="admin@sandbox.example",
            ANAPLAN_PASSWORD="sandbox",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_URL=self.fake.api_url,
            ALM_BOT_DATABASE_URL=self.database_url,
            ALM_BOT_CONFIG=str(self.config),
            **extra,
        )

    @asynccontextmanager
    async def serve(self) -> AsyncIterator[Serve]:
        """Run ``alm-bot serve --port 0`` until the block ends (SIGTERM, then SIGKILL if it hangs)."""
        self.serves += 1
        name = f"serve-{self.serves}"
        async with spawn_alm_bot("serve", "--port", "0", env=self.env(), cwd=self.tmp, name=name) as spawned:
            url = (await spawned.line(r"^alm-bot is running on (http://\S+)$")).group(1)
            async with httpx2.AsyncClient(timeout=WAIT) as http:
                await _answering(http, f"{url}/healthz", spawned)
                yield Serve(spawned, url, http, self.fake)

    # --- Anaplan (the sandbox process) ------------------------------------------------------------

    async def control(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        reply = await self.http.request(method, f"{self.sandbox_url}/_sandbox{path}", json=body)
        reply.raise_for_status()
        return reply.json() if reply.content else None

    async def advance(self, seconds: float) -> None:
        """Move the sandbox's clock: running tasks progress and finish, as if that time had passed."""
        await self.control("POST", "/clock", {"advance": seconds})

    async def anaplan_requests(self) -> list[dict[str, Any]]:
        """Every request the sandbox answered (method, path, status, time), oldest first."""
        entries: list[dict[str, Any]] = (await self.control("GET", "/requests"))["requests"]
        return entries

    async def sync_posts(self, status: int | None = 201) -> int:
        """How many sync-task POSTs Anaplan answered with ``status`` (all of them with None)."""
        return sum(
            1
            for e in await self.anaplan_requests()
            if e["method"] == "POST"
            and e["path"].endswith("/syncTasks")
            and (status is None or e["status"] == status)
        )

    # --- the database -----------------------------------------------------------------------------

    async def request_where(
        self, check: Callable[[ApprovalRequest], bool], what: str, *, requester_id: str | None = None
    ) -> ApprovalRequest:
        """Wait (bounded) for the only request (of ``requester_id``) to pass ``check``; returns it."""
        found: list[ApprovalRequest] = []

        async def passes() -> bool:
            requests = await self.store.list_requests(requester_id=requester_id)
            candidate = requests[0] if len(requests) == 1 else None
            found[:] = [candidate] if candidate is not None and check(candidate) else []
            return bool(found)

        await eventually(passes, what)
        return found[0]

    async def outbox_empty(self) -> None:
        """Wait until every notice in the outbox was delivered."""

        async def empty() -> bool:
            return not await self.store.list_outbox(sent=False)

        await eventually(empty, "every notice in the outbox to be delivered")

    # --- Slack ------------------------------------------------------------------------------------

    def posts(self, where: Callable[[Call], bool]) -> list[Call]:
        """Successful ``chat.postMessage`` calls matching ``where``."""
        return [c for c in self.fake.of("chat.postMessage") if c.status == 200 and where(c)]

    def finished_replies(self, request: ApprovalRequest, state: str) -> list[Call]:
        """Replies in the card's thread saying the request ended in ``state``."""
        return self.posts(
            lambda c: (
                bool(c.params.get("thread_ts"))
                and str(c.params.get("text", "")).endswith(f"({request.id}): {state}")
            )
        )

    def finished_dms(self, request_id: str, user: str, state: str) -> list[Call]:
        """Direct messages to ``user`` saying the request ended in ``state``."""
        return self.posts(
            lambda c: (
                c.params.get("channel") in (dm_channel_id(user), user)
                and c.params.get("text") == f"Your request {request_id} {state}."
            )
        )


async def _answering(http: httpx2.AsyncClient, url: str, spawned: Spawned) -> None:
    """Wait until ``url`` answers at all (the process printed its URL before it accepts)."""

    async def answers() -> bool:
        if spawned.process.returncode is not None:
            raise AssertionError(f"exited with {spawned.process.returncode}: {spawned!r}")
        try:
            await http.get(url)
        except httpx2.TransportError:  # bound, not accepting yet
            return False
        return True

    await eventually(answers, f"{url} to answer")


def watcher_config(*, lease_seconds: float, rate: float) -> str:
    """A ``[watcher]`` that notices quickly; a short lease, so a killed process's claims soon lapse."""
    return (
        "\n[watcher]\n"
        "poll_min_seconds = 0.2\n"
        "poll_max_seconds = 1\n"
        f"lease_seconds = {lease_seconds}\n"
        f"anaplan_requests_per_second = {rate}\n"
    )


@asynccontextmanager
async def rig(
    tmp_path: Path,
    database_url: str,
    *,
    task_duration: float,
    lease_seconds: float = 3,
    requests_per_second: float = 20,
    anaplan_rate_limit: bool = True,
) -> AsyncIterator[Rig]:
    """The sandbox process, the fake Slack and the configuration; the database migrated."""
    config = sandbox_config(tmp_path)
    watcher = watcher_config(lease_seconds=lease_seconds, rate=requests_per_second)
    config.write_text(config.read_text() + watcher)
    sandbox_args = ("sandbox", "--port", "0", "--task-duration", str(task_duration))
    async with (
        FakeSlack(bot_token=BOT_TOKEN) as fake,
        spawn_alm_bot(*sandbox_args, env=clean_env(), cwd=tmp_path, name="sandbox") as sandbox,
        httpx2.AsyncClient(timeout=WAIT) as http,
    ):
        fake.add_user(APPROVER, "grace", real_name="Grace Hopper")
        sandbox_url = (await sandbox.line(r"listening on (http://\S+)$")).group(1)
        await _answering(http, f"{sandbox_url}/_sandbox", sandbox)
        # Recovery proves a start by the finished task's revisions, which only the rich result shape
        # shows; which task gets which shape is drawn per task number (a plan's own summary and
        # report tasks shift the draw), so pin it.
        (
            await http.post(f"{sandbox_url}/_sandbox/fidelity", json={"result_shapes": "rich"})
        ).raise_for_status()
        if not anaplan_rate_limit:
            await http.post(f"{sandbox_url}/_sandbox/rate-limit", json={"per_second": None})
        store = Store(database_url)
        try:
            await store.upgrade()
            yield Rig(tmp_path, fake, sandbox_url, database_url, config, store, http)
        finally:
            await store.dispose()
            # Anaplan's stand-in needs no graceful stop: SIGTERM would wait out every answer a
            # delay fault still holds (up to 20 s a test), for a client that was killed long ago.
            await sandbox.stop(signal.SIGKILL)
