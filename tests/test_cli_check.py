"""``alm-bot check`` tells the truth: red for each broken Slack or Anaplan setting, green for a good one.

``check`` runs as a process against the sandbox (served on loopback, as a separate Anaplan would be)
and the loopback fake Slack. It names the database and the configuration file it used and never
creates a database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alm_bot.sandbox import Sandbox, create_app, seed
from tests.live import serving
from tests.processes import Finished, clean_env, run_alm_bot, sandbox_config
from tools.fake_slack import FakeSlack

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
async def anaplan() -> AsyncIterator[str]:
    async with serving(create_app(Sandbox(rate_limit_per_second=None))) as base:
        yield base


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as slack:
        slack.usergroups["S0APPROVERS"] = ["U0APPROVER1"]
        yield slack


def env_of(home: Path, anaplan: str, fake: FakeSlack, **overrides: str) -> dict[str, str]:
    config = home / "alm-bot.toml"
    if not config.exists():
        sandbox_config(home)
    values = {
        "ANAPLAN_API_URL": f"{anaplan}/2/0",
        "ANAPLAN_AUTH_URL": anaplan,
        "ANAPLAN_USERNAME": seed.ADMIN_USER,
        "ANAPLAN_PASSWORD": seed.PASSWORD,
        "ALM_BOT_CONFIG": str(config),
        "ALM_BOT_DATABASE_URL": f"sqlite:///{home / 'alm-bot.db'}",
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_APP_TOKEN": fake.app_token,
        "SLACK_API_URL": fake.api_url,
    }
    return clean_env(**(values | overrides))


def rows_of(done: Finished) -> dict[str, tuple[str, str]]:
    """``{row name: (ok|FAIL, detail)}`` from the table."""
    rows = {}
    for line in done.stdout.splitlines():
        name, _, detail = line[6:].partition("  ")
        rows[name.strip()] = (line[:4].strip(), detail.strip())
    return rows


async def check(home: Path, env: dict[str, str]) -> tuple[Finished, dict[str, tuple[str, str]]]:
    done = await run_alm_bot("check", env=env, cwd=home)
    assert "Traceback" not in done.stderr, done.stderr
    return done, rows_of(done)


async def test_a_good_setup_is_green_names_its_file_and_database_and_creates_none(
    tmp_path: Path, anaplan: str, fake: FakeSlack
) -> None:
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake))

    assert done.code == 0, done
    assert all(verdict == "ok" for verdict, _ in rows.values()), done.stdout
    assert str(tmp_path / "alm-bot.toml") in rows["configuration"][1]
    assert str(tmp_path / "alm-bot.db") in rows["database"][1]
    assert "ALM access to dev, test, prod" in rows["anaplan models"][1]
    assert {"slack bot token", "slack app token", "slack approvals channel"} <= rows.keys()
    assert not (tmp_path / "alm-bot.db").exists()


async def test_an_api_url_without_2_0_is_red(tmp_path: Path, anaplan: str, fake: FakeSlack) -> None:
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake, ANAPLAN_API_URL=anaplan))

    assert done.code == 1
    assert rows["anaplan api url"][0] == "FAIL"
    assert "/2/0" in rows["anaplan api url"][1]


async def test_a_login_that_is_no_workspace_administrator_names_every_model(
    tmp_path: Path, anaplan: str, fake: FakeSlack
) -> None:
    env = env_of(tmp_path, anaplan, fake, ANAPLAN_USERNAME=seed.VIEWER_USER)
    done, rows = await check(tmp_path, env)

    assert done.code == 1
    assert rows["anaplan login"][0] == "ok"
    verdict, detail = rows["anaplan models"]
    assert verdict == "FAIL"
    for alias in ("dev", "test", "prod"):
        assert f"{alias} (not a Workspace Administrator there)" in detail


async def test_a_wrong_bot_token_is_red(tmp_path: Path, anaplan: str, fake: FakeSlack) -> None:
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake, SLACK_BOT_TOKEN="xoxb-wrong"))

    assert done.code == 1
    assert rows["slack bot token"] == ("FAIL", "auth.test: invalid_auth (check SLACK_BOT_TOKEN)")


async def test_a_wrong_app_token_is_red(tmp_path: Path, anaplan: str, fake: FakeSlack) -> None:
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake, SLACK_APP_TOKEN="xapp-1-wrong"))

    assert done.code == 1
    assert rows["slack app token"][0] == "FAIL"
    assert "SLACK_APP_TOKEN" in rows["slack app token"][1]


async def test_missing_scopes_are_named(tmp_path: Path, anaplan: str, fake: FakeSlack) -> None:
    fake.workspace.scopes = ("commands", "chat:write")
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake))

    assert done.code == 1
    assert (
        "missing scopes: users:read, usergroups:read, im:write, files:write, im:history, channels:history"
        in (rows["slack bot token"][1])
    )


async def test_a_bot_outside_the_approvals_channel_is_red(
    tmp_path: Path, anaplan: str, fake: FakeSlack
) -> None:
    fake.fail_next("conversations.history", status=200, error="not_in_channel")
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake))

    assert done.code == 1
    assert rows["slack approvals channel"][0] == "FAIL"
    assert "not a member of C0APPROVALS" in rows["slack approvals channel"][1]


async def test_an_approver_group_slack_does_not_know_is_red(
    tmp_path: Path, anaplan: str, fake: FakeSlack
) -> None:
    config = sandbox_config(tmp_path)
    groups = 'approver_groups = ["S0NOBODY"]\napprovers = ['
    config.write_text(config.read_text().replace("approvers = [", groups))
    done, rows = await check(tmp_path, env_of(tmp_path, anaplan, fake))

    assert done.code == 1
    assert rows["slack group S0NOBODY"] == ("FAIL", "usergroups.users.list: no_such_subteam")
