"""The data-loss radar on the approval card: the verdict at the top, the first findings and how many
more — snapshot-tested, and the README's mock-up of a ``data-loss`` card kept true against it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from alm_bot.anaplan.models import SummaryReport
from alm_bot.radar import assess
from alm_bot.records import SyncPlan
from alm_bot.slack.cards import approval_card
from alm_bot.store import ApprovalRequest
from tests.slack.test_renderers import SUMMARY, sync_request

README = Path(__file__).parents[2] / "README.md"
HEADER = "".join(
    f"{side} {what}\t{name}\t{'0' * 32}\n"
    for side in ("Source", "Target")
    for what, name in (("Workspace", "FP&A"), ("Model", f"FP&A {side}"), ("Revision", "r"))
)
REPORT = HEADER + (
    "\n=== LINE ITEMS DELETED ===\nModule\tLine Item\tFormula\n"
    "REV01 Inputs\tRevenue Input\t\n"
    "OPX01 Opex\tLegacy Accrual\t\n"
    "\n=== MODULES CHANGED ===\nName\tApplies To\n"
    "Headcount\tE1 Region → E2 Country\n"
    "REV01 Revenue\t\n"
    "\n=== LINE ITEMS CHANGED ===\nModule\tLine Item\tFormula\tTime Scale\n"
    "OPX01 Opex\tOpex\t→ HC01 Headcount.Cost\tMonth\n"
    "OPX01 Opex\tRent\t\tMonth → Quarter\n"
    "REV01 Revenue\tRevenue\tUnits * Price → Units * Price * 0.98\t\n"
    "\n=== CHANGES WITHIN LISTS ===\nList\tItems Added/Moved\tItems Deleted\tItems Changed\n"
    "Regions\t2\t3\t0\n"
)

RADAR_SUMMARY = {
    "targetRevisionId": "D88FFB555CB331A67BFA533499D6949B",
    "sourceRevisionId": "C5F38FE0C35EB839CAB6013351BEDCF4",
    "totals": {"created": 7, "modified": 6, "deleted": 2},
    "differences": {
        "lists": {"created": 1, "modified": 1},
        "modules": {"created": 1, "modified": 2},
        "lineItems": {"created": 5, "modified": 3, "deleted": 2},
    },
}


def data_loss_request() -> ApprovalRequest:
    request = sync_request(plan={"summary": RADAR_SUMMARY})
    assert isinstance(request.plan, SyncPlan)
    summary = SummaryReport.model_validate(RADAR_SUMMARY)
    risk = assess(summary, REPORT)
    target = request.plan.target.model_copy(update={"risk": risk})
    return request.model_copy(update={"plan": request.plan.model_copy(update={"targets": (target,)})})


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def test_a_data_loss_card_matches_its_snapshot(snapshot_json: SnapshotAssertion) -> None:
    card = approval_card(data_loss_request())
    assert {"text": card.text, "blocks": card.block_dicts()} == snapshot_json


def test_the_verdict_comes_first_with_five_findings_and_a_count_of_the_rest() -> None:
    blocks = approval_card(data_loss_request()).block_dicts()
    radar = blocks[2]["text"]["text"].splitlines()
    assert radar[0].startswith("🛑 *Data-loss radar: DATA LOSS*")
    assert radar[1] == "• Line item Revenue Input in REV01 Inputs is deleted: its data is lost"
    assert len([line for line in radar if line.startswith("• ")]) == 5
    assert radar[-1] == "…and 2 more"


def test_the_readme_shows_the_data_loss_card_as_the_card_draws_it() -> None:
    mock = README.read_text(encoding="utf-8").split("## Quick start")[0]
    drawn = " ".join(line.strip("│ ").strip() for line in mock.splitlines() if line.startswith("│"))
    drawn = re.sub(r"\s+", " ", drawn)
    radar = approval_card(data_loss_request()).block_dicts()[2]["text"]["text"]
    for line in radar.replace("*", "").replace("&amp;", "&").splitlines():
        assert re.sub(r"\s+", " ", line) in drawn, line


def test_a_card_waiting_for_the_report_says_so_and_an_old_plan_shows_no_radar() -> None:
    waiting = sync_request(plan={"summary": SUMMARY})
    assert isinstance(waiting.plan, SyncPlan)
    target = waiting.plan.target.model_copy(update={"report_task_id": "T" * 32})
    waiting = waiting.model_copy(update={"plan": waiting.plan.model_copy(update={"targets": (target,)})})
    texts = [b.get("text", {}).get("text", "") for b in approval_card(waiting).block_dicts()]
    assert "⏳ *Data-loss radar:* waiting for the comparison report…" in texts
    old_plan = sync_request(plan={"summary": SUMMARY})  # decided on before the radar: no verdict stored
    old = [b.get("text", {}).get("text", "") for b in approval_card(old_plan).block_dicts()]
    assert not [t for t in old if "radar" in t]
