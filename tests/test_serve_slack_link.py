"""Slack can fail, the product cannot: ``alm-bot serve`` in Socket Mode while Slack misbehaves.

Each test runs the real command in its own process against a loopback fake Slack (``SLACK_API_URL``)
that refuses the token, is not there at all, or drops the websocket mid-session. Every time
``/healthz`` answers quickly and names the Slack state, ``/mcp`` works, and SIGTERM ends serve
(or SIGINT) with exit code 0 within 10 s. The log says what happened once per change, with no tracebacks.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from alm_bot.config import load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.serve import build_app
from alm_bot.services import open_services, sandbox_defaults
from tests.live import WAIT, eventually, mcp_client, serving
from tests.mcp.calls import ok
from tests.processes import Spawned, clean_env, spawn_alm_bot
from tests.test_serve import base_url_of, closed_port, health
from tools.fake_slack import FakeSlack, slash_command_payload

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

STOP_WITHIN = 10.0


def socket_mode_env(home: Path, api_url: str, *, bot_token: str, app_token: str) -> dict[str, str]:
    return clean_env(
        ALM_BOT_DATABASE_URL=f"sqlite:///{home / 'alm-bot.db'}",
        SLACK_BOT_TOKEN=bot_token,
        SLACK_APP_TOKEN=app_token,
        SLACK_API_URL=api_url,
    )


async def slack_state_becomes(base: str, prefix: str) -> dict[str, object]:
    """Poll /healthz until its ``slack`` entry starts with ``prefix``; each answer must come in < 5 s."""
    seen: dict[str, object] = {}

    async def reached() -> bool:
        started = time.monotonic()
        _, body = await health(base)
        assert time.monotonic() - started < 5, f"/healthz took {time.monotonic() - started:.1f}s"
        seen.update(body)
        return str(body.get("slack", "")).startswith(prefix)

    try:
        await eventually(reached, f"slack to read {prefix!r}", timeout=WAIT)
    except AssertionError as exc:
        raise AssertionError(f"{exc}; last answer {seen}") from None
    return seen


async def mcp_works(base: str) -> None:
    async with mcp_client(f"{base}/mcp", None) as client:
        await ok(client, "alm_list_models")


async def stops_cleanly(serve: Spawned, sig: signal.Signals = signal.SIGTERM) -> None:
    started = time.monotonic()
    code = await serve.stop(sig)
    assert code == 0, serve
    assert time.monotonic() - started < STOP_WITHIN, f"took {time.monotonic() - started:.1f}s: {serve!r}"
    assert "Traceback" not in serve.stderr, serve.stderr


async def test_a_refused_bot_token_is_reported_once_as_fatal_and_the_rest_serves(tmp_path: Path) -> None:
    async with FakeSlack(bot_token="xoxb-the-real-one") as fake:
        env = socket_mode_env(tmp_path, fake.api_url, bot_token="xoxb-a-wrong-one", app_token=fake.app_token)
        async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
            base = await base_url_of(serve)
            body = await slack_state_becomes(base, "fatal")
            await mcp_works(base)
            tries = len(fake.of("auth.test"))
            await stops_cleanly(serve)

    assert body["status"] == "degraded"
    assert "invalid_auth" in str(body["slack"])
    assert "SLACK_BOT_TOKEN" in str(body["slack"])
    assert tries == 1  # not retried
    assert serve.stderr.count("Slack configuration error") == 1, serve.stderr


async def test_a_refused_app_token_names_slack_app_token(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        env = socket_mode_env(tmp_path, fake.api_url, bot_token=fake.bot_token, app_token="xapp-1-wrong")
        async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
            base = await base_url_of(serve)
            body = await slack_state_becomes(base, "fatal")
            await mcp_works(base)
            await stops_cleanly(serve)

    assert "SLACK_APP_TOKEN" in str(body["slack"])
    assert len(fake.of("apps.connections.open")) == 1


async def test_an_unreachable_slack_is_down_retried_and_logged_once(tmp_path: Path) -> None:
    api_url = f"http://127.0.0.1:{closed_port()}/api/"
    env = socket_mode_env(tmp_path, api_url, bot_token="xoxb-test", app_token="xapp-1-test")
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
        base = await base_url_of(serve)
        body = await slack_state_becomes(base, "down")
        await mcp_works(base)
        await stops_cleanly(serve, signal.SIGINT)  # Ctrl-C in a terminal: the same clean stop

    assert "cannot reach Slack" in str(body["slack"])
    assert body["status"] == "degraded"
    assert serve.stderr.count("Slack: down") == 1, serve.stderr


async def test_a_dropped_connection_is_reported_and_reopened(tmp_path: Path) -> None:
    async with FakeSlack() as fake:
        env = socket_mode_env(tmp_path, fake.api_url, bot_token=fake.bot_token, app_token=fake.app_token)
        async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
            base = await base_url_of(serve)
            first = await slack_state_becomes(base, "ok")
            await fake.wait_for_socket(timeout=WAIT)
            assert await fake.drop_sockets() == 1
            await eventually(lambda: fake.sockets_opened >= 2, "a second Socket Mode connection")
            await slack_state_becomes(base, "ok")
            ack = await fake.socket_send(
                "slash_commands",
                slash_command_payload("help", response_url=fake.response_url("help")),
                timeout=WAIT,
            )
            await mcp_works(base)
            await stops_cleanly(serve)

    assert first["status"] == "ok"
    assert "/alm" in str(ack.get("payload"))
    assert "Slack: ok (Socket Mode connected)" in serve.stderr


async def test_while_slack_refuses_the_bot_token_notices_wait_in_the_outbox_untried(tmp_path: Path) -> None:
    async with FakeSlack(bot_token="xoxb-the-real-one") as fake:
        env = {
            "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}",
            "SLACK_BOT_TOKEN": "xoxb-a-wrong-one",
            "SLACK_SIGNING_SECRET": "http-mode-signing-secret",
            "SLACK_API_URL": fake.api_url,
        }
        settings = load_settings(env=env, defaults=sandbox_defaults())
        async with open_services(settings, sandbox=Sandbox()) as services:
            app = build_app(services)
            async with serving(app) as base:
                link = app.state.slack_link
                await eventually(lambda: link.state.status == "fatal", "the link to give up on the token")
                async with mcp_client(f"{base}/mcp", None) as client:
                    await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
                watcher = services.watcher
                assert watcher is not None
                for _ in range(3):  # three full watcher passes after the card was queued
                    beat = watcher.heartbeat or 0.0
                    await eventually(lambda beat=beat: (watcher.heartbeat or 0.0) > beat, "a watcher pass")
                waiting = await services.store.list_outbox(sent=False)
                _, body = await health(base)

    assert waiting, "the card waits in the outbox"
    assert all(row.attempts == 0 for row in waiting), waiting
    assert not fake.of("chat.postMessage")
    assert len(fake.of("auth.test")) == 1
    assert body["slack"] == "fatal (invalid_auth: check SLACK_BOT_TOKEN)"
