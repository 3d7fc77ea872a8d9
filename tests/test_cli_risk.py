"""``alm-bot requests show ID`` (a process, the database only) carries the data-loss radar's verdict:
``risk`` in ``--json``, and one readable line without it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alm_bot.actor import Actor
from alm_bot.sandbox import seed
from alm_bot.sandbox.structural import change_from_body
from tests.processes import clean_env, run_alm_bot, sandbox_config
from tests.world import World

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

DELETION = {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
LOSS = "Line item Revenue Input in REV01 Inputs is deleted: its data is lost"


@pytest.mark.world(slack=False)
async def test_requests_show_prints_the_risk_as_json_and_as_a_line(world: World, tmp_path: Path) -> None:
    ada = Actor("U0REQUESTER", "Ada", "cli")
    world.sandbox.structural_change(seed.DEV_MODEL_ID, change_from_body(DELETION))
    await world.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ada)
    request = (await world.ops.requests.request_sync("dev", "prod", actor=ada)).request
    await world.settle()
    env = clean_env(ALM_BOT_DATABASE_URL=world.services.settings.database_url.get_secret_value())

    shown = await run_alm_bot("requests", "show", request.id, "--json", env=env, cwd=tmp_path)
    assert shown.code == 0, shown
    risk = json.loads(shown.stdout)["risk"]
    assert risk["verdict"] == "data-loss"
    assert risk["findings"][0]["reason"] == LOSS

    readable = await run_alm_bot("requests", "show", request.id, env=env, cwd=tmp_path)
    assert f"risk: data-loss: {LOSS}" in readable.stdout


@pytest.mark.world(
    slack=False, approval={"block_on_risk": "data-loss", "override_approvers": ["U0APPROVER1"]}
)
async def test_requests_approve_past_block_on_risk_needs_override_flags_and_an_override_approver(
    world: World, tmp_path: Path
) -> None:
    ada = Actor("U0REQUESTER", "Ada", "cli")
    world.sandbox.structural_change(seed.DEV_MODEL_ID, change_from_body(DELETION))
    await world.ops.immediate.create_revision("dev", "Drops Revenue Input", "", actor=ada)
    request = (await world.ops.requests.request_sync("dev", "prod", actor=ada)).request
    await world.settle()
    config = tmp_path / "alm-bot.toml"
    config.write_text(
        sandbox_config(tmp_path)
        .read_text()
        .replace(
            "[approval]\n", '[approval]\nblock_on_risk = "data-loss"\noverride_approvers = ["U0APPROVER1"]\n'
        )
    )
    env = clean_env(
        ALM_BOT_DATABASE_URL=world.services.settings.database_url.get_secret_value(),
        ALM_BOT_CONFIG=str(config),
        ANAPLAN_USERNAME="nobody@example.com",
        ANAPLAN_PASSWORD="unused",
    )
    approve = ("requests", "approve", request.id, "--reason", "Input retired.", "--confirm-data-loss")

    plain = await run_alm_bot(*approve, "--as", "U0APPROVER1", env=env, cwd=tmp_path)
    assert plain.code == 1, plain
    assert 'block_on_risk = "data-loss" applies to FP&A PROD' in plain.stderr
    assert "--confirm-data-loss --override-risk" in plain.stderr  # the override approver is told how

    other = await run_alm_bot(*approve, "--override-risk", "--as", "U0APPROVER2", env=env, cwd=tmp_path)
    assert other.code == 1, other
    assert "Only the override approvers" in other.stderr
    assert (await world.request(request.id)).state == "pending"
