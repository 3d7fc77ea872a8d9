"""The data-loss radar: each rule on the report or summary that triggers it, and unknown never safe."""

from __future__ import annotations

import pytest
from radar_reports import APIARY_SAMPLE, report, summary

from alm_bot.radar import RULES, Risk, assess, combine, parse_report, read_report

MODULE_COLUMNS = ["Name", "Applies To", "Time Scale", "Time Range", "Versions", "Notes"]
LINE_ITEM_COLUMNS = ["Module", "Line Item", "Data Type", "Formula", "Applies To", "Time Scale"]
LIST_COLUMNS = ["Name", "Parent", "Top Level Item", "Is Production Data"]


def only(risk: Risk) -> tuple[str, str, str]:
    assert len(risk.findings) == 1, risk.findings
    found = risk.findings[0]
    return risk.verdict, found.rule, found.reason


# --- safe -----------------------------------------------------------------------------------------


def test_anaplans_documented_sample_report_is_safe() -> None:
    risk = assess(
        summary(lists={"created": 1}, modules={"created": 1}, lineItems={"created": 1}), APIARY_SAMPLE
    )
    assert risk == Risk(verdict="safe")


def test_a_summary_with_only_additions_and_role_changes_is_safe() -> None:
    plan = summary(lineItems={"created": 3}, modules={"created": 1}, rolesContents={"modified": 2})
    assert assess(plan) == Risk(verdict="safe")


def test_no_changes_at_all_is_safe() -> None:
    assert assess(summary()).verdict == "safe"


def test_a_formula_changed_on_a_calculated_line_item_is_safe() -> None:
    text = report(
        (
            "LINE ITEMS CHANGED",
            LINE_ITEM_COLUMNS,
            [["REV01", "Revenue", "Number", "A * B → A * B * 2", "-", "Month"]],
        )
    )
    assert assess(summary(lineItems={"modified": 1}), text).verdict == "safe"


def test_moving_the_switchover_forward_is_safe() -> None:
    text = report(("MODEL CALENDAR CHANGED", ["Switchover"], [["Jan 26 → Mar 26"]]))
    assert assess(None, text).verdict == "safe"


# --- data-loss: one test per rule -------------------------------------------------------------------


def test_a_deleted_line_item_loses_its_data() -> None:
    text = report(
        (
            "LINE ITEMS DELETED",
            LINE_ITEM_COLUMNS,
            [["REV01 Inputs", "Revenue Input", "Number", "", "-", "Month"]],
        )
    )
    risk = assess(summary(lineItems={"deleted": 1}), text)
    assert only(risk) == (
        "data-loss",
        "line-item-deleted",
        "Line item Revenue Input in REV01 Inputs is deleted: its data is lost",
    )
    found = risk.findings[0]
    assert (found.category, found.object, found.module) == ("lineItems", "Revenue Input", "REV01 Inputs")


def test_a_deleted_module_loses_its_data() -> None:
    text = report(("MODULES DELETED", ["Name", "Applies To"], [["OPX02 Legacy", "Regions"]]))
    assert only(assess(summary(modules={"deleted": 1}), text)) == (
        "data-loss",
        "module-deleted",
        "Module OPX02 Legacy is deleted: its data is lost",
    )


def test_a_deleted_list_loses_its_items_and_their_data() -> None:
    text = report(("LISTS DELETED", LIST_COLUMNS, [["Cost Centres", "", "All Cost Centres", "false"]]))
    verdict, rule, reason = only(assess(summary(lists={"deleted": 1}), text))
    assert (verdict, rule) == ("data-loss", "list-deleted")
    assert reason == "List Cost Centres is deleted: its items and the data held against them are lost"


def test_a_module_applies_to_change_loses_data_outside_the_new_dimension() -> None:
    text = report(
        ("MODULES CHANGED", MODULE_COLUMNS, [["Headcount", "E1 Region → E2 Country", "Month", "", "", ""]])
    )
    assert only(assess(summary(modules={"modified": 1}), text)) == (
        "data-loss",
        "applies-to-changed",
        "Headcount applies to changes from E1 Region to E2 Country: data outside the new dimension is lost",
    )


def test_an_applies_to_change_to_a_subset_counts_too() -> None:
    text = report(
        (
            "LINE ITEMS CHANGED",
            LINE_ITEM_COLUMNS,
            [["REV01", "Units", "Number", "", "Products -> Forecast Products", "Month"]],
        )
    )
    verdict, rule, reason = only(assess(None, text))
    assert (verdict, rule) == ("data-loss", "applies-to-changed")
    assert reason.startswith("Line item Units in REV01 applies to changes from Products to Forecast Products")


@pytest.mark.parametrize(
    ("column", "change", "reason"),
    [
        (
            "Time Scale",
            "Month → Quarter",
            "REV01 Revenue changes its time scale from Month to Quarter: "
            "data held at the old time scale is lost",
        ),
        (
            "Time Range",
            "FY24-FY27 → FY26-FY27",
            "REV01 Revenue changes its time range from FY24-FY27 to FY26-FY27: "
            "data outside the new time range is lost",
        ),
    ],
)
def test_a_time_scale_or_range_change_loses_data(column: str, change: str, reason: str) -> None:
    cells = {"Name": "REV01 Revenue", column: change}
    text = report(("MODULES CHANGED", MODULE_COLUMNS, [[cells.get(c, "") for c in MODULE_COLUMNS]]))
    assert only(assess(None, text)) == ("data-loss", "timescale-changed", reason)


def test_a_calendar_change_loses_data() -> None:
    text = report(
        (
            "MODEL CALENDAR CHANGED",
            ["Calendar Type", "Current Period"],
            [["Months → 4-4-5 Weeks", "Jan 26 → Feb 26"]],
        )
    )
    verdict, rule, reason = only(assess(None, text))
    assert (verdict, rule) == ("data-loss", "calendar-changed")
    assert reason.startswith("The model calendar's Calendar Type changes from Months to 4-4-5 Weeks")


@pytest.mark.parametrize("change", ["Mar 26 → Jan 26", "March 2026 -> December 2025", "2026-03 → 2026-01"])
def test_moving_the_switchover_backwards_loses_data(change: str) -> None:
    text = report(("MODEL CALENDAR CHANGED", ["Switchover"], [[change]]))
    verdict, rule, reason = only(assess(None, text))
    assert (verdict, rule) == ("data-loss", "switchover-backwards")
    assert reason.startswith("The switchover moves back from ")


def test_a_switchover_move_the_radar_cannot_order_is_for_review() -> None:
    text = report(("MODEL CALENDAR CHANGED", ["Switchover"], [["FY26 W12 → FY26 W3"]]))
    assert only(assess(None, text))[:2] == ("review", "switchover-moved")


def test_a_formula_added_to_a_data_entry_line_item_loses_what_was_entered() -> None:
    text = report(
        (
            "LINE ITEMS CHANGED",
            LINE_ITEM_COLUMNS,
            [["REV01 Inputs", "Price", "Number", " → Price Book.Price", "-", "Month"]],
        )
    )
    assert only(assess(None, text)) == (
        "data-loss",
        "formula-on-input",
        "Line item Price in REV01 Inputs gets a formula (Price Book.Price): the data entered in it is lost",
    )


def test_a_production_list_turned_structural_loses_its_data() -> None:
    text = report(("LISTS CHANGED", LIST_COLUMNS, [["Employees", "", "All Employees", "true → false"]]))
    assert only(assess(None, text)) == (
        "data-loss",
        "production-list-to-structural",
        "List Employees is turned from a production list into a structural one: "
        "its data in the target is lost",
    )


def test_items_and_properties_deleted_within_a_list_lose_their_data() -> None:
    columns = [
        "List",
        "Items Added/Moved",
        "Items Deleted",
        "Items Changed",
        "Properties Added",
        "Properties Moved",
        "Properties Deleted",
        "Properties Changed",
    ]
    text = report(("CHANGES WITHIN LISTS", columns, [["Regions", "0", "3", "0", "0", "0", "1", "2"]]))
    risk = assess(None, text)
    assert risk.verdict == "data-loss"
    assert [f.rule for f in risk.findings] == [
        "list-items-deleted",
        "list-properties-deleted",
        "list-items-changed",
    ]
    assert (
        risk.findings[0].reason == "3 items are deleted from list Regions: the data held against them is lost"
    )


def test_the_summarys_deletions_alone_already_mean_data_loss() -> None:
    risk = assess(summary(lineItems={"deleted": 2, "created": 1}, modules={"deleted": 1}))
    assert risk.verdict == "data-loss"
    assert [f.reason for f in risk.findings] == [
        "The summary counts 2 deleted line items: their data is lost",
        "The summary counts 1 deleted module: their data is lost",
    ]
    assert {f.rule for f in risk.findings} == {"summary-deleted"}


# --- review ---------------------------------------------------------------------------------------


def test_changed_objects_without_the_full_report_are_for_review() -> None:
    verdict, rule, reason = only(assess(summary(modules={"modified": 3})))
    assert (verdict, rule) == ("review", "summary-changed")
    assert reason.startswith("The summary counts 3 changed modules; without the full comparison report")


def test_a_changed_row_that_shows_no_before_and_after_is_for_review() -> None:
    text = report(
        ("MODULES CHANGED", ["Name", "Applies To"], [["REV01 Revenue", "Products, Regions, Time, Versions"]])
    )
    verdict, rule, reason = only(assess(summary(modules={"modified": 1}), text))
    assert (verdict, rule) == ("review", "change-not-detailed")
    assert (
        reason
        == "Module REV01 Revenue is changed, and the report does not show how: check that its data survives"
    )


def test_a_format_change_is_for_review() -> None:
    text = report(
        ("LINE ITEMS CHANGED", LINE_ITEM_COLUMNS, [["REV01", "Code", "Number → Text", "", "-", "Month"]])
    )
    assert only(assess(None, text))[:2] == ("review", "format-changed")


# --- unknown: never safe --------------------------------------------------------------------------


def test_a_section_the_radar_does_not_know_is_unknown() -> None:
    text = report(("ACTIONS CHANGED", ["Name", "Type"], [["Import Actuals", "Import"]]))
    assert only(assess(summary(), text)) == (
        "unknown",
        "report-unknown",
        "The report has a section the radar does not know: ACTIONS CHANGED (1 row)",
    )


def test_a_column_the_radar_does_not_know_is_unknown() -> None:
    text = report(("MODULES ADDED", ["Name", "Applies To", "Dimension Order"], [["X", "Time", "1"]]))
    verdict, rule, reason = only(assess(None, text))
    assert (verdict, rule) == ("unknown", "report-unknown")
    assert reason == "The report's MODULES ADDED section has columns the radar does not know: Dimension Order"


def test_a_row_longer_than_its_header_is_unknown() -> None:
    text = report(("MODULES DELETED", ["Name"], [["X", "surprise"]]))
    assert assess(None, text).verdict == "data-loss"  # the deletion still counts…
    assert "report-unknown" in {f.rule for f in assess(None, text).findings}  # …and the stray cell is named


def test_a_summary_category_the_radar_does_not_know_is_unknown() -> None:
    verdict, rule, reason = only(assess(summary(actions={"created": 2})))
    assert (verdict, rule) == ("unknown", "summary-unknown")
    assert reason == "The summary counts changes in a category the radar does not know: actions (2 created)"


def test_totals_that_no_category_explains_are_unknown() -> None:
    plan = summary().model_copy(update={"totals": summary(lists={"created": 4}).totals})
    assert only(assess(plan))[:2] == ("unknown", "summary-unknown")


def test_a_report_over_the_size_cap_is_unknown_with_the_reason() -> None:
    text = report(("LINE ITEMS ADDED", ["Module", "Line Item"], [["M", f"Item {n}"] for n in range(2000)]))
    verdict, rule, reason = only(
        assess(summary(lineItems={"created": 2000}), text.encode(), max_report_bytes=20_000)
    )
    assert (verdict, rule) == ("unknown", "report-too-large")
    assert reason.startswith("The comparison report is ")
    assert "over the radar's 20 KB limit" in reason


def test_a_wanted_report_that_could_not_be_read_is_unknown() -> None:
    verdict, rule, reason = only(assess(summary(), report_unavailable="Anaplan answered 404"))
    assert (verdict, rule, reason) == (
        "unknown",
        "report-unavailable",
        "The full comparison report could not be read: Anaplan answered 404",
    )


def test_deletions_the_report_does_not_list_are_unknown() -> None:
    risk = assess(summary(lineItems={"deleted": 2}), report())
    assert risk.verdict == "data-loss"
    assert [f.rule for f in risk.findings] == ["summary-deleted", "report-disagrees"]


def test_changes_the_summary_counts_but_the_report_does_not_show_are_unknown() -> None:
    verdict, rule, reason = only(assess(summary(modules={"modified": 2}), report()))
    assert (verdict, rule) == ("unknown", "report-disagrees")
    assert (
        reason
        == "The summary counts 2 changed modules but the report shows none: the radar cannot see what changed"
    )


def test_the_risk_serialises_as_verdict_and_findings() -> None:
    dumped = assess(summary(modules={"deleted": 1})).model_dump(mode="json")
    assert list(dumped) == ["verdict", "findings", "omitted"]
    assert dumped["omitted"] == 0
    assert dumped["verdict"] == "data-loss"
    assert list(dumped["findings"][0]) == ["verdict", "rule", "category", "object", "module", "reason"]


def test_data_loss_outranks_unknown_and_comes_first() -> None:
    text = report(
        ("ACTIONS CHANGED", ["Name"], [["Import"]]),
        ("MODULES DELETED", ["Name"], [["OPX02"]]),
    )
    risk = assess(None, text)
    assert risk.verdict == "data-loss"
    assert [f.verdict for f in risk.findings] == ["data-loss", "unknown"]


def test_nothing_to_read_is_unknown() -> None:
    assert only(assess(None)) == (
        "unknown",
        "nothing-read",
        "Neither the comparison summary nor the full report was read",
    )


def test_a_stray_line_outside_the_sections_is_unknown() -> None:
    verdict, rule, reason = only(assess(None, report() + "Report generated with warnings\n"))
    assert (verdict, rule) == ("unknown", "report-unknown")
    assert reason.endswith("does not know: Report generated with warnings")


def test_a_report_without_anaplans_header_lines_is_unknown() -> None:
    verdict, rule, reason = only(assess(None, b""))
    assert (verdict, rule) == ("unknown", "report-unknown")
    assert reason.startswith(
        "The report lacks header lines that Anaplan writes: Source Model, Source Revision"
    )


# --- the report and the table ---------------------------------------------------------------------


def test_the_report_reads_into_sections_of_named_cells() -> None:
    parsed = parse_report(APIARY_SAMPLE)
    assert [s.title for s in parsed.sections] == [
        "LISTS ADDED",
        "MODULES ADDED",
        "ROLES CHANGED",
        "CHANGES WITHIN LISTS",
        "LINE ITEMS ADDED",
    ]
    assert next(parsed.sections[1].rows())["Applies To"] == "Products"
    assert parsed.stray_lines == ()


def test_a_bom_and_windows_line_ends_do_not_matter() -> None:
    text = report(("MODULES DELETED", ["Name"], [["OPX02"]])).replace("\n", "\r\n")
    assert assess(None, "\ufeff".encode() + text.encode()).verdict == "data-loss"


def test_every_rule_names_its_source_and_every_finding_names_a_rule_of_the_table() -> None:
    assert all(rule.source for rule in RULES.values())
    text = report(("MODULES CHANGED", MODULE_COLUMNS, [["H", "A → B", "Month → Week", "", "V1 → V2", ""]]))
    for found in assess(summary(lists={"deleted": 1}), text).findings:
        assert RULES[found.rule].verdict == found.verdict


def test_findings_are_plain_text_without_markup() -> None:
    text = report(("LINE ITEMS DELETED", ["Module", "Line Item"], [["REV01 Inputs", "Revenue Input"]]))
    for found in assess(summary(lineItems={"deleted": 1}), text).findings:
        assert not set(found.reason) & set("*_`<>")


def test_a_reading_kept_until_the_summary_arrives_gives_the_same_verdict_as_assessing_at_once() -> None:
    text = report(
        ("LINE ITEMS DELETED", ["Module", "Line Item"], [["REV01", "Old"]]),
        ("MODULES CHANGED", ["Name"], [["OPX01"]]),
    )
    plan = summary(lineItems={"deleted": 2}, modules={"modified": 1})
    assert combine(plan, read_report(text)) == assess(plan, text)
    assert combine(plan, read_report(text.encode(), max_report_bytes=10)) == assess(
        plan, text, max_report_bytes=10
    )


def test_a_stored_verdict_keeps_the_most_severe_findings_and_counts_the_rest() -> None:
    rows = [["REV01", f"Item {n}"] for n in range(300)]
    text = report(("LINE ITEMS CHANGED", ["Module", "Line Item"], rows), ("ACTIONS ADDED", ["Name"], [["X"]]))
    risk = combine(summary(lineItems={"modified": 300}), read_report(text), keep=10)
    assert (risk.verdict, len(risk.findings), risk.omitted, risk.count) == ("unknown", 10, 291, 301)
    assert risk.findings[0].rule == "report-unknown"
