"""``alm-bot windows`` and ``alm-bot requests override``, black-box, as processes against the sandbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alm_bot.sandbox import seed
from tests.processes import Finished, clean_env, run_alm_bot, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
END = NOW + timedelta(hours=2)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def anaplan(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    home = tmp_path_factory.mktemp("sandbox")
    async with spawn_alm_bot("sandbox", "--port", "0", env=clean_env(), cwd=home) as sandbox:
        yield (await sandbox.line(r"^Anaplan sandbox listening on (http://\S+)$")).group(1)


def config(directory: Path) -> Path:
    path = directory / "alm-bot.toml"
    path.write_text(
        f"""
[approval]
channel = "C0APPROVALS"
approvers = ["U0APPROVER1", "U0APPROVER2"]
override_approvers = ["U0APPROVER2"]

[models.dev]
id = "{seed.DEV_MODEL_ID}"

[models.prod]
id = "{seed.PROD_MODEL_ID}"
protected = true

[[windows]]
models = ["prod"]
kind = "deny"
start = "{NOW - timedelta(hours=1):%Y-%m-%dT%H:%M}"
end = "{END:%Y-%m-%dT%H:%M}"
reason = "Q4 close"
"""
    )
    return path


async def cli(tmp_path: Path, anaplan: str, *args: str) -> Finished:
    env = clean_env(
        ANAPLAN_API_URL=f"{anaplan}/2/0",
        ANAPLAN_AUTH_URL=anaplan,
        ANAPLAN_USERNAME=seed.ADMIN_USER,
        ANAPLAN_PASSWORD=seed.PASSWORD,
        ALM_BOT_CONFIG=str(config(tmp_path)),
        ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}",
    )
    done = await run_alm_bot(*args, env=env, cwd=tmp_path)
    assert "Traceback" not in done.stderr, done.stderr
    return done


async def test_windows_says_whether_a_model_may_change_and_lists_its_windows(
    tmp_path: Path, anaplan: str
) -> None:
    done = await cli(tmp_path, anaplan, "windows", "prod", "--json")
    assert done.code == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["decision"]["may_run"] is False
    assert shown["decision"]["runs_at"] == END.isoformat()
    assert [(w["name"], w["kind"], w["open_until"]) for w in shown["windows"]] == [
        ("Q4 close", "deny", END.isoformat())
    ]
    text = await cli(tmp_path, anaplan, "windows", "dev")
    assert text.code == 0
    assert "dev: may change now" in text.stdout


async def test_an_approval_in_a_deny_window_is_scheduled_and_an_override_approver_runs_it(
    tmp_path: Path, anaplan: str
) -> None:
    asked = await cli(tmp_path, anaplan, "requests", "sync", "dev", "prod", "--as", "U0REQUESTER", "--json")
    request_id = json.loads(asked.stdout)["id"]
    approved = await cli(
        tmp_path,
        anaplan,
        "requests",
        "approve",
        request_id,
        "--as",
        "U0APPROVER1",
        "--reason",
        "ok",
        "--json",
    )
    scheduled = json.loads(approved.stdout)
    assert (scheduled["state"], scheduled["runs_at"]) == ("scheduled", END.isoformat(timespec="seconds"))
    assert "Q4 close" in scheduled["window"]["reason"]

    refused = await cli(
        tmp_path,
        anaplan,
        "requests",
        "override",
        request_id,
        "--as",
        "U0APPROVER1",
        "--reason",
        "now",
        "--json",
    )
    assert refused.code == 1
    assert refused.stderr.count("\n") == 1
    assert "override approvers" in refused.stderr

    ran = await cli(
        tmp_path,
        anaplan,
        "requests",
        "override",
        request_id,
        "--as",
        "U0APPROVER2",
        "--reason",
        "fix",
        "--json",
    )
    assert ran.code == 0, ran.stderr
    overridden = json.loads(ran.stdout)
    assert overridden["state"] == "executing"
    assert overridden["window"]["override_reason"] == "fix"
    assert overridden["window"]["overridden_by_id"] == "U0APPROVER2"
