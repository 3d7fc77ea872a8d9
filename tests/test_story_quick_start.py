"""Story: the README's quick start, as a newcomer types it — request, approval, sync, notice, in the sandbox.

``alm-bot serve --sandbox`` runs in one process; the newcomer's commands run in others, in the same
directory (so the same SQLite file), exactly as the banner prints them (``--sandbox-url``). The sync
really runs in the emulator and the watcher of serve announces the end (Slack is off, so notices are
printed by serve).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.processes import clean_env, run_alm_bot, spawn_alm_bot

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_the_quick_start_goes_from_request_to_approval_to_sync_to_notice(tmp_path: Path) -> None:
    env = clean_env()
    async with spawn_alm_bot("serve", "--sandbox", "--port", "0", env=env, cwd=tmp_path) as serve:
        approve_hint = (await serve.line(r"^\s+approve:\s+(alm-bot requests approve .*)$")).group(1)
        sandbox_url = re.search(r"--sandbox-url (\S+)", approve_hint).group(1)  # type: ignore[union-attr]
        asked = await run_alm_bot(
            "requests",
            "sync",
            "dev",
            "prod",
            "--as",
            "U0REQUESTER",
            "--sandbox-url",
            sandbox_url,
            "--json",
            env=env,
            cwd=tmp_path,
        )
        assert asked.code == 0, asked
        request_id = json.loads(asked.stdout)["id"]
        await serve.line(rf"notice to approvals: approval needed: request {request_id}")

        approve = approve_hint.replace("ID", request_id).split()[1:]
        approved = await run_alm_bot(*[a.strip('"') for a in approve], env=env, cwd=tmp_path)
        assert approved.code == 0, approved
        await serve.line(rf"task finished: request {request_id} \(succeeded\)")
        shown = await run_alm_bot("requests", "show", request_id, "--json", env=env, cwd=tmp_path)

    assert json.loads(shown.stdout)["state"] == "succeeded"
    assert "Traceback" not in serve.stderr + asked.stderr + approved.stderr
