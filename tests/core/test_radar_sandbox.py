"""The radar on the sandbox's own reports, fetched over HTTP like the client fetches Anaplan's."""

from __future__ import annotations

import httpx2
import pytest

from alm_bot.anaplan.models import SummaryReport
from alm_bot.radar import assess
from alm_bot.sandbox import Sandbox, create_app, seed

pytestmark = pytest.mark.anyio

PLAN = {"sourceRevisionId": seed.R4_ID, "sourceModelId": seed.DEV_MODEL_ID, "targetRevisionId": seed.R3_ID}


async def test_the_seeded_dev_to_test_plan_only_adds_so_the_radar_says_safe() -> None:
    """The sandbox writes only what the radar knows (every rule's own change: test_radar_preflight)."""
    sandbox = Sandbox(task_duration=0.0, rate_limit_per_second=None)
    transport = httpx2.ASGITransport(create_app(sandbox))
    headers = {"Authorization": f"AnaplanAuthToken {sandbox.token_for(seed.ADMIN_USER)}"}
    models = f"/2/0/models/{seed.TEST_MODEL_ID}/alm"
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox", headers=headers) as http:
        for tasks in ("comparisonReportTasks", "summaryReportTasks"):
            assert (await http.post(f"{models}/{tasks}", json=PLAN)).status_code == 201
        report = await http.get(f"{models}/comparisonReports/{seed.R3_ID}/{seed.R4_ID}")
        summary = await http.get(f"{models}/summaryReports/{seed.R3_ID}/{seed.R4_ID}")
    risk = assess(SummaryReport.model_validate(summary.json()["summaryReport"]), report.content)
    assert risk.verdict == "safe"
    assert risk.findings == ()
