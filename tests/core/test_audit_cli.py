"""``alm-bot audit export|verify`` and ``requests notes`` as processes, on a database a real story wrote
(sandbox sync, approved, verified); then a row edited directly in the database is named by verify."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from alm_bot.sandbox import seed
from alm_bot.store import Store
from tests.processes import clean_env, run_alm_bot, sandbox_config
from tests.world import ADA, GRACE, open_world

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def a_verified_release(database_url: str) -> str:
    async with open_world(database_url=database_url, slack=False) as core:
        outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        await core.pass_time(2)
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
        await core.pass_time(3)
        await core.ops.requests.request_sync("dev", "test", actor=ADA)  # unprotected: runs at once
        await core.pass_time(3)
        return str(outcome.request.id)


async def edit_an_event_directly(database_url: str, action: str) -> int:
    store = Store(database_url)
    try:
        async with store.engine.begin() as connection:
            if store.dialect == "postgresql":
                await connection.execute(
                    sa.text("ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only")
                )
            else:
                await connection.execute(sa.text("DROP TRIGGER audit_event_no_update"))
            edited = await connection.execute(
                sa.text(
                    "UPDATE audit_event SET actor_name = 'Someone else' "
                    "WHERE id = (SELECT MIN(id) FROM audit_event WHERE action = :action) RETURNING id"
                ),
                {"action": action},
            )
            return int(edited.scalar_one())
    finally:
        await store.dispose()


async def test_export_verify_and_notes_tell_what_happened_and_catch_an_edited_row(
    database_url: str, tmp_path: Path
) -> None:
    request_id = await a_verified_release(database_url)
    env = clean_env(ALM_BOT_DATABASE_URL=database_url, ALM_BOT_CONFIG=str(sandbox_config(tmp_path)))

    exported = await run_alm_bot("audit", "export", "--model", "prod", "--since", "1d", env=env, cwd=tmp_path)
    as_csv = await run_alm_bot("audit", "export", "--format", "csv", env=env, cwd=tmp_path)
    raw = await run_alm_bot("audit", "export", "--events", "--format", "csv", env=env, cwd=tmp_path)
    notes = await run_alm_bot("requests", "notes", request_id, env=env, cwd=tmp_path)
    intact = await run_alm_bot("audit", "verify", env=env, cwd=tmp_path)

    assert exported.code == 0, exported.stderr
    (record,) = [json.loads(line) for line in exported.stdout.splitlines()]  # only the prod request
    assert (record["record"], record["id"], record["state"]) == ("request", request_id, "succeeded")
    assert record["approved_by"] == [GRACE.name]
    assert record["approver_is_requester"] is False
    assert record["approval_covers_execution"] is True
    assert record["verified"] is True
    assert record["anaplan_task_ids"]
    assert [e["action"] for e in record["events"]][-2:] == ["sync_succeeded", "verified"]
    assert all(e["hash"] for e in record["events"])
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert {row["target_model_id"] for row in rows} == {seed.PROD_MODEL_ID, seed.TEST_MODEL_ID}
    assert next(r for r in rows if r["id"] == request_id)["approved_by"] == GRACE.name
    events = list(csv.DictReader(io.StringIO(raw.stdout)))
    assert len(events) > len(rows)
    assert events[1]["prev_hash"] == events[0]["hash"]
    assert notes.code == 0, notes.stderr
    assert notes.stdout.startswith(f"# Release notes: {seed.R4_NAME} → FP&A PROD")
    assert (intact.code, intact.stdout.startswith(f"audit log intact: {len(events)} event(s), head ")) == (
        0,
        True,
    )

    edited = await edit_an_event_directly(database_url, "approved")
    broken = await run_alm_bot("audit", "verify", env=env, cwd=tmp_path)
    assert broken.code == 1
    assert f"event {edited} was edited" in broken.stdout


async def test_export_refuses_a_moment_it_cannot_read(database_url: str, tmp_path: Path) -> None:
    env = clean_env(ALM_BOT_DATABASE_URL=database_url, ALM_BOT_CONFIG=str(sandbox_config(tmp_path)))
    refused = await run_alm_bot("audit", "export", "--since", "last week", env=env, cwd=tmp_path)
    assert refused.code == 1
    assert "--since 'last week' is neither a date" in refused.stderr
