"""The data-loss radar in preflight, through the real stack: a structural change made over the
sandbox's HTTP control endpoint → a revision → `request_sync` (planning starts the summary and, for a
protected target, the full report) → the watcher polls and downloads them → the radar's verdict is
stored on the plan's target. One test per rule the sandbox can make Anaplan show."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from alm_bot.radar import Risk
from alm_bot.records import SyncPlan
from alm_bot.sandbox import create_app, seed
from tests.world import ADA, World

pytestmark = pytest.mark.anyio


async def change(core: World, *bodies: dict[str, Any]) -> None:
    """Make structural changes on dev over the sandbox's HTTP control endpoint, then a revision."""
    transport = httpx2.ASGITransport(create_app(core.sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        for body in bodies:
            url = f"/_sandbox/models/{seed.DEV_MODEL_ID}/structural-change"
            response = await http.post(url, json=body)
            assert response.status_code == 200, response.text
    await core.ops.immediate.create_revision("dev", "Radar test", "", actor=ADA)


async def verdict(core: World, target: str = "prod") -> Risk:
    outcome = await core.ops.requests.request_sync("dev", target, actor=ADA)
    await core.pass_time(2)
    plan = (await core.ops.get_request(outcome.request.id)).plan
    assert isinstance(plan, SyncPlan)
    assert plan.target.risk is not None
    return plan.target.risk


def rules(risk: Risk) -> list[str]:
    return [f.rule for f in risk.findings]


async def test_the_seeded_plan_is_read_in_full_and_needs_review(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    planned = (await core.ops.get_request(outcome.request.id)).plan
    assert isinstance(planned, SyncPlan)
    assert planned.target.report_task_id is not None
    assert planned.target.risk is None  # the summary and the report are still being computed
    await core.pass_time(2)
    done = (await core.ops.get_request(outcome.request.id)).plan
    assert isinstance(done, SyncPlan)
    assert done.target.report is not None
    assert done.target.risk is not None
    assert done.target.risk.verdict == "review"
    assert set(rules(done.target.risk)) == {"change-not-detailed"}
    assert len([e for e in core.sandbox.request_log if "/comparisonReports/" in e.path]) == 1


async def test_a_deleted_line_item_is_data_loss_named_by_its_module(core: World) -> None:
    await change(
        core,
        {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"},
    )
    risk = await verdict(core)
    assert risk.verdict == "data-loss"
    assert risk.findings[0].reason == "Line item Revenue Input in REV01 Inputs is deleted: its data is lost"


@pytest.mark.parametrize(
    ("body", "rule", "reason"),
    [
        (
            {"category": "modules", "action": "deleted", "name": "OPX02 Legacy"},
            "module-deleted",
            "Module OPX02 Legacy is deleted: its data is lost",
        ),
        (
            {"category": "lists", "action": "deleted", "name": "Cost Centres"},
            "list-deleted",
            "List Cost Centres is deleted: its items and the data held against them are lost",
        ),
        (
            {"category": "modules", "action": "modified", "name": "Headcount",
             "changes": {"Applies To": ["E1 Region", "E2 Country"]}},
            "applies-to-changed",
            "Headcount applies to changes from E1 Region to E2 Country: "
            "data outside the new dimension is lost",
        ),
        (
            {"category": "line_items", "action": "modified", "name": "Rent", "module": "OPX01 Opex",
             "changes": {"Time Scale": ["Month", "Quarter"]}},
            "timescale-changed",
            "Line item Rent in OPX01 Opex changes its time scale from Month to Quarter: "
            "data held at the old time scale is lost",
        ),
        (
            {"category": "line_items", "action": "modified", "name": "Opex", "module": "OPX01 Opex",
             "changes": {"Formula": ["", "HC01 Headcount.Cost"]}},
            "formula-on-input",
            "Line item Opex in OPX01 Opex gets a formula (HC01 Headcount.Cost): "
            "the data entered in it is lost",
        ),
        (
            {"category": "lists", "action": "modified", "name": "Regions",
             "changes": {"Is Production Data": ["true", "false"]}},
            "production-list-to-structural",
            "List Regions is turned from a production list into a structural one: "
            "its data in the target is lost",
        ),
        (
            {"category": "lists", "action": "modified", "name": "Regions", "counts": {"Items Deleted": 3}},
            "list-items-deleted",
            "3 items are deleted from list Regions: the data held against them is lost",
        ),
        (
            {"category": "lists", "action": "modified", "name": "Regions",
             "counts": {"Properties Deleted": 1}},
            "list-properties-deleted",
            "1 property is deleted from list Regions: their values are lost",
        ),
        (
            {"category": "calendar", "action": "modified", "changes": {"Switchover": ["Mar 26", "Jan 26"]}},
            "switchover-backwards",
            "The switchover moves back from Mar 26 to Jan 26: "
            "the data entered in the periods between is lost",
        ),
        (
            {"category": "calendar", "action": "modified", "changes": {"Fiscal Year Start": ["Jan", "Apr"]}},
            "calendar-changed",
            "The model calendar's Fiscal Year Start changes from Jan to Apr: "
            "data in the periods that change is lost",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and "-" in value and " " not in value else "-",
)  # fmt: skip
async def test_each_data_loss_rule_fires_on_the_change_the_sandbox_makes(
    core: World, body: dict[str, Any], rule: str, reason: str
) -> None:
    await change(core, body)
    risk = await verdict(core)
    assert risk.verdict == "data-loss"
    hit = [f for f in risk.findings if f.rule == rule]
    assert [f.reason for f in hit] == [reason]


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        ({"category": "line_items", "action": "modified", "name": "Units", "module": "REV01 Revenue",
          "changes": {"Format": ["Number", "Text"]}}, "format-changed"),
        ({"category": "modules", "action": "modified", "name": "REV01 Revenue",
          "changes": {"Versions": ["Actual, Budget", "Actual"]}}, "versions-changed"),
        ({"category": "lists", "action": "modified", "name": "Regions", "counts": {"Items Changed": 2}},
         "list-items-changed"),
        ({"category": "list_subsets", "action": "deleted", "name": "Forecast Products", "list": "Products"},
         "subset-changed"),
        ({"category": "calendar", "action": "modified", "changes": {"Switchover": ["FY26", "Q2 FY26"]}},
         "switchover-moved"),
    ],
    ids=["format-changed", "versions-changed", "list-items-changed", "subset-changed", "switchover-moved"],
)  # fmt: skip
async def test_each_review_rule_fires_on_the_change_the_sandbox_makes(
    core: World, body: dict[str, Any], rule: str
) -> None:
    await change(core, body)
    risk = await verdict(core)
    assert risk.verdict == "review"
    assert rule in rules(risk)


async def test_a_report_column_the_radar_does_not_know_is_unknown_never_safe(core: World) -> None:
    await change(
        core,
        {"category": "modules", "action": "modified", "name": "REV01 Revenue",
         "changes": {"Cell Colour": ["Blue", "Green"]}},
    )  # fmt: skip
    risk = await verdict(core)
    assert risk.verdict == "unknown"
    unknown = [f for f in risk.findings if f.rule == "report-unknown"]
    assert (
        unknown[0].reason
        == "The report's MODULES CHANGED section has columns the radar does not know: Cell Colour"
    )


async def test_an_unprotected_sync_gets_a_verdict_from_the_summary_alone(core: World) -> None:
    await change(
        core, {"category": "line_items", "action": "deleted", "name": "Old", "module": "REV01 Revenue"}
    )
    core.sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")  # not deployed: not protected
    risk = await verdict(core, "test")
    assert risk.verdict == "data-loss"
    assert rules(risk)[:1] == ["summary-deleted"]
    assert not [e for e in core.sandbox.request_log if "comparisonReport" in e.path]


async def test_a_report_over_the_size_cap_is_not_read_and_gives_unknown_with_the_reason(
    core: World,
) -> None:
    core.ops.watching.report_cap = 200
    risk = await verdict(core)
    assert risk.verdict == "unknown"
    too_large = [f for f in risk.findings if f.rule == "report-too-large"]
    assert len(too_large) == 1
    assert too_large[0].reason.startswith("The comparison report is over the radar's 0 KB limit")
    downloads = [e for e in core.sandbox.request_log if "/comparisonReports/" in e.path]
    assert len(downloads) == 1


async def test_a_report_anaplan_fails_to_compute_gives_unknown_with_the_reason(core: World) -> None:
    core.sandbox.faults.add("GET", r"/comparisonReports/", status=404, times=99)
    risk = await verdict(core)
    assert risk.verdict == "unknown"
    assert "report-unavailable" in rules(risk)
