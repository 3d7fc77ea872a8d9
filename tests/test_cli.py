"""The operator's command line, black-box: ``alm-bot requests …``, ``check`` and ``db upgrade`` as processes.

Every command runs as ``python -m alm_bot.cli`` with an explicit environment: Anaplan is one
``alm-bot sandbox`` process for the module (reset before each test), configured by a TOML file with
the aliases dev/test/prod (prod protected), approvers U0APPROVER1/U0APPROVER2 and cards in
C0APPROVALS; the database is a SQLite file of the test's own. No error may print a traceback.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest

from alm_bot.sandbox import seed
from tests.live import WAIT
from tests.processes import Finished, clean_env, run_alm_bot, sandbox_config, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

REQUESTER = "U0REQUESTER"
APPROVER = "U0APPROVER1"

Cli = Callable[..., Awaitable[Finished]]


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    """Module scope, so one sandbox process serves every test of this module."""
    return "asyncio"


@pytest.fixture(scope="module")
async def anaplan(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """``alm-bot sandbox --port 0``: its base URL."""
    home = tmp_path_factory.mktemp("sandbox")
    async with spawn_alm_bot("sandbox", "--port", "0", env=clean_env(), cwd=home) as sandbox:
        yield (await sandbox.line(r"^Anaplan sandbox listening on (http://\S+)$")).group(1)


@pytest.fixture
async def control(anaplan: str) -> AsyncIterator[httpx2.AsyncClient]:
    """The sandbox's control API, after a reset to the seed data (the process is shared)."""
    async with httpx2.AsyncClient(base_url=f"{anaplan}/_sandbox", timeout=WAIT) as client:
        (await client.post("/reset")).raise_for_status()
        yield client


def cli_env(tmp_path: Path, anaplan: str, *, password: str = seed.PASSWORD) -> dict[str, str]:
    return clean_env(
        ANAPLAN_API_URL=f"{anaplan}/2/0",
        ANAPLAN_AUTH_URL=anaplan,
        ANAPLAN_USERNAME=seed.ADMIN_USER,
        ANAPLAN_PASSWORD=password,
        ALM_BOT_CONFIG=str(sandbox_config(tmp_path)),
        ALM_BOT_DATABASE_URL=f"sqlite:///{tmp_path / 'alm-bot.db'}",
    )


@pytest.fixture
def cli(tmp_path: Path, anaplan: str, control: httpx2.AsyncClient) -> Cli:
    """Run ``alm-bot ARGS`` against the sandbox and this test's database; never a traceback."""
    env = cli_env(tmp_path, anaplan)

    async def run(*args: str) -> Finished:
        done = await run_alm_bot(*args, env=env, cwd=tmp_path)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    return run


async def pending_request(cli: Cli) -> dict[str, Any]:
    asked = await cli("requests", "sync", "dev", "prod", "--as", REQUESTER, "--json")
    assert asked.code == 0, asked
    request: dict[str, Any] = json.loads(asked.stdout)
    return request


async def sync_tasks_started(control: httpx2.AsyncClient) -> int:
    """How many sync tasks Anaplan created (POST …/syncTasks answered 201)."""
    log = (await control.get("/requests")).json()["requests"]
    return sum(
        1 for e in log if e["method"] == "POST" and e["path"].endswith("/syncTasks") and e["status"] == 201
    )


async def together(cli: Cli, *commands: tuple[str, ...]) -> list[Finished]:
    """Run independent commands at the same time (each is a process); results in order."""
    results: dict[int, Finished] = {}

    async def run(index: int, args: tuple[str, ...]) -> None:
        results[index] = await cli(*args)

    async with anyio.create_task_group() as tg:
        for index, args in enumerate(commands):
            tg.start_soon(run, index, args)
    return [results[index] for index in range(len(commands))]


# --- requests ------------------------------------------------------------------------------------


async def test_a_pipeline_requests_a_prod_sync_and_reads_a_pending_request_as_json(
    cli: Cli, control: httpx2.AsyncClient
) -> None:
    request = await pending_request(cli)

    assert request["state"] == "pending"
    assert request["status"] == "awaiting_approval"
    assert request["id"].startswith("R")
    assert (request["origin"], request["requester_id"]) == ("cli", REQUESTER)
    assert request["target_model_id"] == seed.PROD_MODEL_ID
    assert set(request["approvers"]) == {"U0APPROVER1", "U0APPROVER2"}
    assert await sync_tasks_started(control) == 0


async def test_ten_simultaneous_approvals_start_exactly_one_sync(
    cli: Cli, control: httpx2.AsyncClient
) -> None:
    request = await pending_request(cli)
    outcomes: list[Finished] = []

    async def approve() -> None:
        approval = ("requests", "approve", request["id"], "--as", APPROVER, "--reason", "hotfix")
        outcomes.append(await cli(*approval))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(approve)

    winners = [o for o in outcomes if o.code == 0]
    losers = [o for o in outcomes if o.code != 0]
    assert len(winners) == 1, outcomes
    assert {o.code for o in losers} == {1}, losers
    assert all("already" in o.stderr for o in losers), [o.stderr for o in losers]
    assert await sync_tasks_started(control) == 1


async def test_list_and_show_print_json_that_parses(cli: Cli) -> None:
    request = await pending_request(cli)
    listed, shown, pending_only, none_done = await together(
        cli,
        ("requests", "list", "--json"),
        ("requests", "show", request["id"].lower(), "--json"),
        ("requests", "list", "--state", "pending", "--json"),
        ("requests", "list", "--state", "succeeded", "--json"),
    )

    assert [r["id"] for r in json.loads(listed.stdout)] == [request["id"]]
    assert json.loads(shown.stdout)["id"] == request["id"]
    assert json.loads(shown.stdout)["state"] == "pending"
    assert [r["id"] for r in json.loads(pending_only.stdout)] == [request["id"]]
    assert json.loads(none_done.stdout) == []


async def test_list_without_json_prints_a_table(cli: Cli) -> None:
    request = await pending_request(cli)
    listed = await cli("requests", "list")

    header, row = listed.stdout.splitlines()
    assert header.split() == ["ID", "STATE", "OPERATION", "TARGET", "REQUESTER", "CREATED_AT"]
    assert row.startswith(f"{request['id']}  pending")


async def test_reject_without_a_reason_is_refused_with_a_clear_message(cli: Cli) -> None:
    request = await pending_request(cli)
    no_reason, blank_reason = await together(
        cli,
        ("requests", "reject", request["id"], "--as", APPROVER),
        ("requests", "reject", request["id"], "--as", APPROVER, "--reason", "  "),
    )
    still = json.loads((await cli("requests", "show", request["id"], "--json")).stdout)

    assert no_reason.code == 1  # a usage error: exit 1 (2 is the code for a bug)
    assert "--reason" in no_reason.stderr
    assert blank_reason.code == 1
    assert "needs a reason" in blank_reason.stderr
    assert still["state"] == "pending"


async def test_a_reason_rejects_and_a_second_decision_says_it_was_already_rejected(cli: Cli) -> None:
    request = await pending_request(cli)
    rejected = await cli("requests", "reject", request["id"], "--as", APPROVER, "--reason", "not in freeze")
    again = await cli("requests", "approve", request["id"], "--as", "U0APPROVER2", "--reason", "go")

    assert rejected.code == 0, rejected
    assert json.loads((await cli("requests", "show", request["id"], "--json")).stdout)["reason"] == (
        "not in freeze"
    )
    assert again.code == 1
    assert "already rejected by U0APPROVER1" in again.stderr


async def test_approving_as_someone_who_is_not_an_approver_exits_1_with_the_policys_message(
    cli: Cli, control: httpx2.AsyncClient
) -> None:
    request = await pending_request(cli)
    outsider, own = await together(
        cli,
        ("requests", "approve", request["id"], "--as", "U0OUTSIDER", "--reason", "go"),
        ("requests", "approve", request["id"], "--as", REQUESTER, "--reason", "go"),
    )

    assert outsider.code == 1
    assert f"You are not an approver, so you cannot decide request {request['id']}" in outsider.stderr
    assert "Who can approve: U0APPROVER1 or U0APPROVER2." in outsider.stderr  # plain ids, no Slack markup
    assert "<@" not in outsider.stderr
    assert own.code == 1
    assert "four-eyes" in own.stderr
    assert f"run `alm-bot requests cancel {request['id']}`" in own.stderr
    assert await sync_tasks_started(control) == 0


async def test_an_unknown_request_exits_1_with_a_message(cli: Cli) -> None:
    assert (await cli("db", "upgrade")).code == 0
    shown = await cli("requests", "show", "R000000")

    assert shown.code == 1
    assert "There is no request R000000" in shown.stderr


# --- check and db ---------------------------------------------------------------------------------


async def test_check_prints_a_table_and_exits_0_when_all_is_fine(cli: Cli) -> None:
    checked = await cli("check")

    assert checked.code == 0, checked
    rows = {line[6:].split("  ")[0]: line.split()[0] for line in checked.stdout.splitlines()}
    assert rows == {
        "configuration": "ok",
        "database": "ok",
        "anaplan api url": "ok",
        "anaplan login": "ok",
        "anaplan models": "ok",
        "approvers": "ok",
        "slack": "ok",
    }, checked.stdout


async def test_check_exits_1_and_says_fail_when_the_anaplan_login_fails(tmp_path: Path, anaplan: str) -> None:
    env = cli_env(tmp_path, anaplan, password="not-the-password")
    checked = await run_alm_bot("check", env=env, cwd=tmp_path)

    assert checked.code == 1, checked
    (login,) = [line for line in checked.stdout.splitlines() if "anaplan login" in line]
    assert login.startswith("FAIL")
    assert "not-the-password" not in checked.stdout + checked.stderr
    assert "Traceback" not in checked.stderr


async def test_db_upgrade_twice_is_fine(cli: Cli) -> None:
    first = await cli("db", "upgrade")
    second = await cli("db", "upgrade")

    assert (first.code, second.code) == (0, 0), (first, second)
    assert first.stdout == second.stdout
    assert first.stdout.startswith("database at schema revision ")


async def test_an_approval_through_the_cli_is_break_glass_and_names_who_ran_it(cli: Cli) -> None:
    request = await pending_request(cli)
    approved = await cli("requests", "approve", request["id"], "--as", APPROVER, "--reason", "Slack outage")
    shown = json.loads((await cli("requests", "show", request["id"], "--json")).stdout)

    assert approved.code == 0, approved
    ran_by = f"{getpass.getuser()}@{socket.gethostname()}"
    assert shown["decided_by"] == f"{APPROVER} [break-glass, run by {ran_by}]"
    assert shown["reason"] == "Slack outage"


def two_approvals_for_prod(config: Path) -> None:
    config.write_text(config.read_text() + "approvals_required = 2\n")  # the file ends in [models.prod]


async def test_with_two_approvals_required_the_cli_counts_each_and_explains_the_policy(
    tmp_path: Path, anaplan: str, control: httpx2.AsyncClient
) -> None:
    env = cli_env(tmp_path, anaplan)
    two_approvals_for_prod(Path(env["ALM_BOT_CONFIG"]))

    async def cli(*args: str) -> Finished:
        done = await run_alm_bot(*args, env=env, cwd=tmp_path)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    explained = json.loads((await cli("policy", "explain", "prod", "--json")).stdout)
    assert explained["policy"]["approvals_required"] == 2
    assert explained["policy"]["source"] == "[models.prod]"
    request = await pending_request(cli)
    first = await cli("requests", "approve", request["id"], "--as", APPROVER, "--reason", "ok", "--json")
    shown = json.loads(first.stdout)
    assert (shown["state"], shown["approvals"], shown["can_still_approve"]) == (
        "pending",
        "1 of 2",
        ["U0APPROVER2"],
    )
    again = await cli("requests", "approve", request["id"], "--as", APPROVER, "--reason", "ok")
    assert again.code == 1
    assert "already approved" in again.stderr
    assert await sync_tasks_started(control) == 0
    second = await cli(
        "requests", "approve", request["id"], "--as", "U0APPROVER2", "--reason", "ok", "--json"
    )
    assert json.loads(second.stdout)["approved_by"] == ["U0APPROVER1", "U0APPROVER2"]
    assert await sync_tasks_started(control) == 1
