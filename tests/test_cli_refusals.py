"""The CLI's refusals, as processes: one line on stderr, exit code 1, and nothing done before it.

Usage errors, bad values, a busy or impossible port, a public bind without MCP auth, a binary
configuration file, arguments that are not UTF-8: each is refused before any database is opened —
no ``alm-bot.db`` appears, no migration log line is written — with exit code 1 (2 is for bugs).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path

import pytest

from tests.processes import Finished, clean_env, run_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def one_line_refusal(done: Finished, *, containing: str) -> None:
    """Exit 1, a single stderr line that says ``containing``, no traceback."""
    assert done.code == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert containing in lines[0], done.stderr
    assert lines[0].startswith("alm-bot: "), done.stderr


def env_for(home: Path, **more: str) -> dict[str, str]:
    return clean_env(ALM_BOT_DATABASE_URL=f"sqlite:///{home / 'alm-bot.db'}", **more)


async def test_version_prints_the_version_and_exits_0(tmp_path: Path) -> None:
    done = await run_alm_bot("--version", env=env_for(tmp_path), cwd=tmp_path)

    assert done.code == 0, done
    assert re.fullmatch(r"alm-bot \S+\n", done.stdout), done.stdout


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("nonsense",), "invalid choice"),
        (("requests", "list", "--state", "nonsense"), "'nonsense' is not a request state"),
        (("requests", "sync", "dev", "prod", "--as", "   "), "--as: is blank"),
        (("requests", "approve", "R000001", "--as", "U0APPROVER1"), "--reason"),
        (("sandbox", "--port", "99999"), "99999 is not a port number"),
        (("sandbox", "--task-duration", "nan"), "'nan' is not a number of seconds"),
        (("sandbox", "--task-duration", "-1"), "'-1' is not a number of seconds"),
        (("serve", "--sandbox", "--port", "70000"), "70000 is not a port number"),
        (("serve", "--sandbox", "--host", "0.0.0.0", "--port", "0"), "ALM_BOT_MCP_TOKENS"),  # noqa: S104
    ],
)
async def test_a_refused_command_line_is_one_line_exit_1_and_opens_no_database(
    tmp_path: Path, args: tuple[str, ...], says: str
) -> None:
    done = await run_alm_bot(*args, env=env_for(tmp_path), cwd=tmp_path)

    one_line_refusal(done, containing=says)
    assert not (tmp_path / "alm-bot.db").exists()


async def test_serve_on_a_busy_port_is_refused_before_migrations(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ("serve", "--sandbox", "--port", str(port))
        done = await run_alm_bot(*args, env=env_for(tmp_path), cwd=tmp_path)

    one_line_refusal(done, containing=f"cannot listen on 127.0.0.1:{port}")
    assert not (tmp_path / "alm-bot.db").exists()


async def test_arguments_that_are_not_utf8_are_refused_in_one_line(tmp_path: Path) -> None:
    raw = os.fsdecode(b"R\xff\xfe")  # what Python makes of bytes that are not UTF-8
    done = await run_alm_bot("requests", "show", raw, env=env_for(tmp_path), cwd=tmp_path)

    one_line_refusal(done, containing="is not valid UTF-8")


async def test_a_binary_config_file_is_refused_in_one_line(tmp_path: Path) -> None:
    config = tmp_path / "alm-bot.toml"
    config.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff")
    done = await run_alm_bot(
        "serve", "--sandbox", "--port", "0", env=env_for(tmp_path, ALM_BOT_CONFIG=str(config)), cwd=tmp_path
    )

    one_line_refusal(done, containing="is not a TOML text file")
    assert not (tmp_path / "alm-bot.db").exists()


async def test_every_configuration_problem_is_reported_in_one_run_before_migrations(tmp_path: Path) -> None:
    config = tmp_path / "alm-bot.toml"
    config.write_text('[aproval]\nchannel = "C0APPROVALS"\n')
    env = env_for(tmp_path, ALM_BOT_CONFIG=str(config), ALM_BOT_LOG_FORMAT="xml", ANAPLAN_USERNAME="ada")
    done = await run_alm_bot("serve", "--host", "0.0.0.0", "--port", "0", env=env, cwd=tmp_path)  # noqa: S104

    assert done.code == 1, done
    problems = [line for line in done.stderr.splitlines() if line.startswith("  - ")]
    assert any("did you mean 'approval'" in p for p in problems), done.stderr
    assert any("ALM_BOT_LOG_FORMAT" in p for p in problems), done.stderr
    assert any("ANAPLAN_PASSWORD" in p for p in problems), done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "alm-bot.db").exists()


async def test_requests_list_needs_only_the_database_and_says_when_there_is_none(tmp_path: Path) -> None:
    done = await run_alm_bot("requests", "list", env=env_for(tmp_path), cwd=tmp_path)

    one_line_refusal(done, containing="no database at")
    assert not (tmp_path / "alm-bot.db").exists()
