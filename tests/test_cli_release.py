"""``alm-bot requests release SOURCE TARGET… --as WHO [--json]`` and ``requests drop ID``, as processes."""

from __future__ import annotations

import json

import httpx2
import pytest

from alm_bot.sandbox import seed
from tests.test_cli import REQUESTER, Cli, anaplan, anyio_backend, cli, control, sync_tasks_started

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
__all__ = ["anaplan", "anyio_backend", "cli", "control"]  # the fixtures of tests/test_cli.py


async def test_a_pipeline_asks_for_a_release_sees_the_blocked_target_and_drops_it(
    cli: Cli, control: httpx2.AsyncClient
) -> None:
    asked = await cli(
        "requests", "release", "dev", "test", "prod", seed.UNRELATED_MODEL_ID, "--as", REQUESTER, "--json"
    )
    assert asked.code == 0, asked
    release = json.loads(asked.stdout)
    assert (release["status"], release["state"]) == ("blocked", "requested")
    states = [(t["target"], t["state"], bool(t["blocked_reason"])) for t in release["targets"]]
    assert states == [
        ("test", "waiting", False),
        ("prod", "waiting", False),
        ("Workforce Planning", "waiting", True),
    ]

    dropped = await cli("requests", "drop", release["id"], "--as", REQUESTER)
    assert dropped.code == 0, dropped
    assert "awaiting_approval" in dropped.stdout
    assert "wave 1  prod  at Headcount planning  waiting" in dropped.stdout
    assert "wave 1  Workforce Planning  at " in dropped.stdout
    assert dropped.stdout.rstrip().endswith("dropped")
    assert await sync_tasks_started(control) == 0


async def test_a_release_group_that_does_not_exist_exits_1_naming_the_configured_ones(cli: Cli) -> None:
    asked = await cli("requests", "release", "fpa", "--as", REQUESTER)
    assert asked.code == 1
    assert "'fpa' is no release group (none is configured)" in asked.stderr
