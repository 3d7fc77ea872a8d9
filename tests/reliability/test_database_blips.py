"""serve survives its database: PostgreSQL's connections dropped for a second, again and again.

serve runs in-process (`build_app`) against PostgreSQL through `tools.tcp_proxy.TcpProxy`, which the
test cuts: every open connection dropped, new ones refused for a second — what a failover or a
restart looks like to a client. A SQLite file locked by another process past the busy timeout fails
the call at hand with a clear message. Afterwards the watcher is still making passes, MCP answers, health
is back to 200 and the supervisor never had to give up. A notice whose delivery met the outage (its
row claimed, marking it sent or its attempt started failed) is delivered within seconds of the
database's return, not one lease (60 s) later: the watcher gives back the leases of a pass the
database cut short. A background task that keeps crashing
makes serve stop (exit 1) rather than run on half-alive.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import anyio
import pytest
from sqlalchemy.engine import make_url

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.serve import build_app
from alm_bot.services import open_services, sandbox_defaults
from alm_bot.supervisor import Supervisor
from tests.live import eventually, mcp_client, serving
from tests.mcp.calls import ok, refused
from tests.processes import PROCESS_WAIT, clean_env, spawn_alm_bot
from tests.reliability.inproc import inproc
from tests.test_serve import base_url_of, health, healthy
from tools.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DEV_TO_TEST = {"source_model": "dev", "target_model": "test"}


async def test_a_database_dropped_for_a_second_three_times_leaves_every_part_of_serve_running(
    database_url: str,
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the proxy stands in front of PostgreSQL's port")
    server = make_url(database_url)
    async with TcpProxy(server.host or "127.0.0.1", server.port or 5432) as proxy:
        proxied = server.set(port=proxy.port).render_as_string(hide_password=False)
        settings = load_settings(env={"ALM_BOT_DATABASE_URL": proxied}, defaults=sandbox_defaults())
        async with open_services(settings, sandbox=Sandbox(task_duration=2.0)) as services:
            app = build_app(services)
            async with serving(app) as base:
                await healthy(base)
                async with mcp_client(f"{base}/mcp", None) as client:
                    await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "test"})
                watcher = services.watcher
                assert watcher is not None
                for _ in range(3):
                    await proxy.cut(seconds=1.0)
                    status, during = await health(base)
                    assert status in (200, 503), during
                    cut_at = watcher.heartbeat or 0.0
                    await eventually(
                        lambda cut_at=cut_at: (watcher.heartbeat or 0.0) > cut_at and not proxy.is_cut,
                        "a watcher pass after the cut",
                    )
                after = await healthy(base)
                async with mcp_client(f"{base}/mcp", None) as client:
                    listed = await ok(client, "alm_list_requests")

    assert after["database"] == "ok"
    assert listed["requests"], listed
    assert proxy.refused >= 1  # the cuts did turn connections away
    assert app.state.supervisor.failed is None


async def test_a_background_task_that_keeps_crashing_makes_serve_give_up_instead_of_running_half_alive() -> (
    None
):
    reasons: list[str] = []
    supervisor = Supervisor(reasons.append, max_crashes=3, window=60.0, backoff_max=0.0)
    runs = 0

    async def broken() -> None:
        nonlocal runs
        runs += 1
        raise ConnectionError("the database went away")

    await supervisor.keep("watcher", broken)

    assert runs == 3
    assert reasons == ["the watcher failed 3 times in 60s: ConnectionError: the database went away"]
    assert supervisor.failed == reasons[0]


async def test_a_task_that_crashes_once_is_restarted_and_carries_on() -> None:
    supervisor = Supervisor(lambda reason: pytest.fail(reason), backoff_max=0.0)
    runs = 0

    async def flaky() -> None:
        nonlocal runs
        runs += 1
        if runs == 1:
            raise RuntimeError("a bug on the first pass")

    await supervisor.keep("watcher", flaky)

    assert runs == 2
    assert supervisor.failed is None


async def test_a_locked_sqlite_file_fails_the_call_at_hand_clearly_and_serve_carries_on(
    tmp_path: Path,
) -> None:
    database = tmp_path / "alm-bot.db"
    settings = load_settings(
        env={"ALM_BOT_DATABASE_URL": f"sqlite:///{database}"}, defaults=sandbox_defaults()
    )
    async with open_services(settings, sandbox=Sandbox()) as services:
        app = build_app(services)
        async with serving(app) as base:
            await healthy(base)
            # Another process holds the write lock longer than the busy timeout (10 s).
            locker = sqlite3.connect(database, isolation_level=None, timeout=30, check_same_thread=False)
            await anyio.to_thread.run_sync(locker.execute, "BEGIN EXCLUSIVE")
            try:
                async with mcp_client(f"{base}/mcp", None) as client:
                    during = await refused(
                        client, "alm_sync_models", {"source_model": "dev", "target_model": "test"}
                    )
            finally:
                await anyio.to_thread.run_sync(locker.execute, "ROLLBACK")
                locker.close()
            async with mcp_client(f"{base}/mcp", None) as client:
                after = await ok(client, "alm_sync_models", DEV_TO_TEST)
            watcher = services.watcher
            assert watcher is not None
            beat = watcher.heartbeat or 0.0
            await eventually(lambda: (watcher.heartbeat or 0.0) > beat, "a watcher pass after the lock")

    assert "does not answer: database is locked" in during
    assert "[SQL" not in during
    assert after["status"]
    assert app.state.supervisor.failed is None


async def test_serve_exits_1_when_its_watcher_cannot_be_kept_running(tmp_path: Path) -> None:
    database = tmp_path / "alm-bot.db"
    env = clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{database}")
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
        await healthy(await base_url_of(serve))
        # Not an outage but a broken database: every watcher pass fails the same way.
        with closing(sqlite3.connect(database, timeout=30)) as db:
            db.execute("DROP TABLE tracked_task")
            db.commit()
        with anyio.fail_after(PROCESS_WAIT):
            code = await serve.process.wait()

    assert code == 1, serve
    last = serve.stderr.strip().splitlines()[-1]
    assert last.startswith("alm-bot: serve stopped: the watcher failed 5 times in 60s"), serve.stderr
    assert "tracked_task" in last


LONG_LEASE = 60.0  # the default lease: a notice waiting for it would miss `REDELIVERED` by far
REDELIVERED = 10.0  # database back → the notice delivered


@pytest.mark.parametrize("held", ["chat.update", "conversations.open"])
async def test_a_notice_whose_delivery_met_the_outage_is_delivered_soon_after_the_database_returns(
    database_url: str, tmp_path: Path, held: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the proxy stands in front of PostgreSQL's port")
    # chat.update: the card's redraw is in Slack, marking its row sent meets the outage;
    # conversations.open: the DM's attempt cannot even be marked started.
    async with inproc(tmp_path, database_url, proxied=True, lease_seconds=LONG_LEASE) as bot:
        assert (await bot.slash("sync dev prod")).status_code == 200
        pending = await bot.carded()
        await bot.outbox_empty()
        bot.fake.delay_next(held, 0.4)
        assert (await bot.approve(pending)).status_code == 200
        await bot.fake.wait_for(held, count=1 if held == "conversations.open" else 2, timeout=10)
        assert bot.proxy is not None
        await bot.proxy.cut(1.0)
        await anyio.sleep(1.0)  # the outage's own length
        back = anyio.current_time()
        await bot.outbox_empty(timeout=REDELIVERED)
        print(f"\n{held}: delivered {anyio.current_time() - back:.1f}s after the database returned")

        assert bot.proxy.refused >= 1
        assert bot.fake.repeated_posts() == []
        unsent = await bot.services.store.list_outbox(sent=False)
        assert unsent == []
