"""``alm-bot stats`` as a process, on a SQLite database seeded with a short history through the store."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alm_bot.sandbox import seed
from alm_bot.store import EXECUTING, REQUESTED, Store
from tests.core.store_builders import new_request
from tests.processes import clean_env, run_alm_bot, sandbox_config

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

NOW = datetime.now(UTC).replace(microsecond=0)


def clock_at(moments: list[datetime]) -> Callable[[], datetime]:
    return lambda: moments[0]


async def seed_history(url: str) -> None:
    """prod: a sync that succeeded 2 h after it was asked, then one that failed; a test sync long ago."""
    moment = [NOW]
    store = Store(url, clock=clock_at(moment))
    await store.upgrade()
    history = [
        (seed.PROD_MODEL_ID, "FP&A PROD", NOW - timedelta(days=5), timedelta(hours=2), "succeeded"),
        (seed.PROD_MODEL_ID, "FP&A PROD", NOW - timedelta(days=2), timedelta(hours=1), "failed"),
        (seed.TEST_MODEL_ID, "FP&A TEST", NOW - timedelta(days=200), timedelta(hours=1), "succeeded"),
    ]
    try:
        for model_id, name, asked, lead, outcome in history:
            async with store.transaction() as tx:
                request = await tx.insert_request(
                    new_request(target_model_id=model_id, plan={"target_model_name": name}, created_at=asked)
                )
                await tx.transition(request.id, [REQUESTED], EXECUTING, anaplan_task_id=f"T{request.id}")
                moment[0] = asked + lead
                await tx.transition(request.id, [EXECUTING], outcome)
    finally:
        await store.dispose()


async def test_stats_prints_each_models_figures_as_json_and_as_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'alm-bot.db'}"
    await seed_history(url)
    env = clean_env(ALM_BOT_DATABASE_URL=url, ALM_BOT_CONFIG=str(sandbox_config(tmp_path)))

    as_json = await run_alm_bot("stats", "--model", "prod", "--json", env=env, cwd=tmp_path)
    as_text = await run_alm_bot("stats", "--since", "12w", env=env, cwd=tmp_path)
    refused = await run_alm_bot("stats", "--since", "a while", env=env, cwd=tmp_path)

    assert as_json.code == 0, as_json.stderr
    (prod,) = json.loads(as_json.stdout)["models"]
    assert prod["model_id"] == seed.PROD_MODEL_ID
    assert (prod["deployments"], prod["succeeded"], prod["failed"]) == (2, 1, 1)
    assert prod["lead_time_seconds"] == 2 * 3600
    assert prod["change_failure_rate"] == 0.5
    assert (prod["restored"], prod["not_restored"]) == (0, 1)
    assert as_text.code == 0, as_text.stderr
    assert "FP&A PROD" in as_text.stdout
    assert "FP&A TEST" not in as_text.stdout  # its sync ended before the 12 weeks
    assert "lead time (median)    2h 00m" in as_text.stdout
    assert refused.code == 1
    assert refused.stderr.strip() == "alm-bot: 'a while' is not a period: use e.g. 90d, 12w or 48h."
