"""OAuth end to end over loopback HTTP: ``alm-bot anaplan login`` (device grant) → the service runs →
its refresh token rotates twice → a restart is still logged in → a revoked refresh token gives the one
clear "run alm-bot anaplan login again", without a retry storm; two replicas share one rotating token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import anyio
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sandbox_calls import FROZEN_NOW
from served import serving

from alm_bot.admin import run_check
from alm_bot.anaplan_login import log_in
from alm_bot.config import Settings, load_settings
from alm_bot.errors import LoginRequired
from alm_bot.sandbox import Sandbox, seed
from alm_bot.services import open_services
from alm_bot.store import Store
from alm_bot.store.oauth_grants import DatabaseGrantStore

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ACCESS_LIFETIME = 2100.0


class Clock:
    def __init__(self) -> None:
        self.now = FROZEN_NOW

    def __call__(self) -> float:
        return self.now


@asynccontextmanager
async def tenant(tmp_path: Path) -> AsyncIterator[tuple[Sandbox, Clock, Settings]]:
    clock = Clock()
    sandbox = Sandbox(rate_limit_per_second=None, clock=clock)
    async with serving(sandbox) as base:
        settings = load_settings(
            env={
                "ANAPLAN_API_URL": f"{base}/2/0",
                "ANAPLAN_AUTH_URL": base,
                "ANAPLAN_OAUTH_URL": base,
                "ANAPLAN_OAUTH_CLIENT_ID": seed.OAUTH_CLIENT_ID,
                "ALM_BOT_SECRET_KEY": Fernet.generate_key().decode(),
                "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm.db'}",
            }
        )
        yield sandbox, clock, settings


async def device_login(sandbox: Sandbox, settings: Settings) -> list[str]:
    """Run ``alm-bot anaplan login``; the person approves in the browser while it waits."""
    shown: list[str] = []

    async def person_approves_then_wait(seconds: float) -> None:
        code = next(m.group(1) for line in shown if (m := re.search(r"enter the code (\S+)", line)))
        sandbox.approve_device_login(code, seed.ADMIN_USER)

    await log_in(settings, echo=shown.append, sleep=person_approves_then_wait)
    return shown


def oauth_calls(sandbox: Sandbox) -> list[str]:
    return [f"{e.method} {e.path} {e.status}" for e in sandbox.request_log if e.path.startswith("/oauth/")]


async def stored_version(settings: Settings) -> int:
    store = Store(settings.database_url)
    try:
        assert settings.anaplan_oauth_client_id is not None
        assert settings.secret_key is not None
        grant = await DatabaseGrantStore(store, settings.anaplan_oauth_client_id, settings.secret_key).load()
    finally:
        await store.dispose()
    assert grant is not None
    return grant.version


async def test_device_login_then_the_service_rotates_twice_survives_a_restart_and_reports_a_revoked_login(
    tmp_path: Path,
) -> None:
    async with tenant(tmp_path) as (sandbox, clock, settings):
        shown = await device_login(sandbox, settings)
        assert any("/oauth/device" in line for line in shown)
        assert shown[-1].startswith("Logged in.")

        async with open_services(settings) as services:
            assert len(await services.client.list_models()) == 6  # the login's own access token
            for _ in range(2):  # the access token runs out: refresh, rotate, store
                clock.now += ACCESS_LIFETIME + 60
                assert len(await services.client.list_models()) == 6
        assert await stored_version(settings) == 3

        async with open_services(settings) as restarted:  # a restart: the stored, fresh access token
            assert len(await restarted.client.list_models()) == 6
        assert oauth_calls(sandbox) == [
            "POST /oauth/device/code 200",
            "POST /oauth/token 200",
            "POST /oauth/token 200",
            "POST /oauth/token 200",
        ]
        assert len(sandbox.oauth.refresh_tokens) == 1, "the two rotated-away refresh tokens are dead"

        sandbox.oauth.refresh_tokens.clear()  # revoked in Anaplan Administration
        clock.now += ACCESS_LIFETIME + 60
        async with open_services(settings) as services:
            with pytest.raises(LoginRequired, match=r"Run `alm-bot anaplan login` again") as first:
                await services.client.list_models()
            with pytest.raises(LoginRequired):
                await services.client.list_models()
            with pytest.raises(LoginRequired):
                await services.client.get_model(seed.PROD_MODEL_ID)

    assert "revoked" in str(first.value)
    assert oauth_calls(sandbox)[4:] == ["POST /oauth/token 400"], "one refusal, then no retry storm"


async def test_check_reports_the_missing_login_in_plain_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with tenant(tmp_path) as (_, _, settings):
        code = await anyio.to_thread.run_sync(run_check, lambda: settings)

    assert code == 1
    assert "Run `alm-bot anaplan login` once" in capsys.readouterr().out


async def test_two_replicas_refreshing_at_once_share_one_rotation(tmp_path: Path) -> None:
    async with tenant(tmp_path) as (sandbox, clock, settings):
        await device_login(sandbox, settings)
        async with open_services(settings) as first, open_services(settings, upgrade=False) as second:
            await first.client.list_models()
            await second.client.list_models()
            clock.now += ACCESS_LIFETIME + 60

            async with anyio.create_task_group() as both:
                both.start_soon(first.client.list_models)
                both.start_soon(second.client.list_models)
            clock.now += 60
            await first.client.get_model(seed.DEV_MODEL_ID)
            await second.client.get_model(seed.DEV_MODEL_ID)

    refreshes = [c for c in oauth_calls(sandbox) if c.startswith("POST /oauth/token")][1:]
    assert refreshes.count("POST /oauth/token 200") == 1, refreshes
    assert len(sandbox.oauth.refresh_tokens) == 1
    assert await stored_version(settings) == 2


def test_the_secret_key_never_shows_in_settings_repr(tmp_path: Path) -> None:
    key = Fernet.generate_key().decode()
    settings = load_settings(
        env={
            "ANAPLAN_OAUTH_CLIENT_ID": "c",
            "ALM_BOT_SECRET_KEY": key,
            "ALM_BOT_DATABASE_URL": "sqlite:///x.db",
        }
    )
    assert key not in repr(settings)
    assert SecretStr(key) == settings.secret_key
    assert key in settings.secret_values()
