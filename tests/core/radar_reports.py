"""Comparison reports and summaries for the radar tests, written the way Anaplan writes them."""

from __future__ import annotations

from typing import Any

from alm_bot.anaplan.models import SummaryReport

HEADER = (
    "Source Workspace\tFP&A\t8a81b09d599f3c6e0159f605560c2630\n"
    "Source Model\tFP&A DEV\t1497B2A3711C8A3E75250696C910CFBA\n"
    "Source Revision\tCapex module\tE7F72A49B23C43638DC77839D78B33BE\n"
    "Target Workspace\tFP&A\t8a81b09d599f3c6e0159f605560c2630\n"
    "Target Model\tFP&A PROD\t0085E9ACE5F908A0582AA6F438CE70FC\n"
    "Target Revision\tHeadcount\t795731A31D1A47EFB3802EA6355C62C4\n"
)

APIARY_SAMPLE = (
    "Source Workspace\tff8081813f9aee3c013f9b06a28a000a Name\n"
    "Source Model\tStarterModel\n"
    "Source Revision\trev2\tnull\n"
    "Target Workspace\tff8081813f9aee3c013f9b06a28a000a Name\n"
    "Target Model\tStarterModel\n"
    "Target Revision\trev1\tnull\n"
    "\n"
    "=== LISTS ADDED ===\n"
    "Name\tPosition\tRelative To\tHas Workflow\tIs Numbered List\tIs Organisation\tNotes\t"
    "Is Production Data\tHas Selective Access\tUse Top Level As Default Page\n"
    "Products\tEnd\t-\tfalse\tfalse\tfalse\t-\tfalse\tfalse\tfalse\n"
    "\n"
    "=== MODULES ADDED ===\n"
    "Name\tPosition\tRelative To\tApplies To\tBreakback\tTime Scale\tNotes\tRead Access Driver\t"
    "Read/Write Access Driver\tTime Range\tUsers List Option\tVersions\n"
    "Products over time\tEnd\t-\tProducts\tNew Line Items: Off\tMonth\t-\t\t\tModel Calendar\t"
    "Show All Users: On\tNot Applicable\n"
    "\n"
    "=== ROLES CHANGED ===\n"
    "Name\tChanges\n"
    "Full Access\t1\n"
    "\n"
    "=== CHANGES WITHIN LISTS ===\n"
    "List\tItems Added/Moved\tItems Deleted\tItems Changed\tProperties Added\tProperties Moved\t"
    "Properties Deleted\tProperties Changed\n"
    "Products\t2\t0\t0\t0\t0\t0\t0\n"
    "\n"
    "=== LINE ITEMS ADDED ===\n"
    "Module\tLine Item\tPosition\tRelative To\tData Type\tApplies To\tTags\tFormula Scope\t"
    "Include Brought Forward\tIs Breakback Enabled\tIs Section Break\tIs Summary Line Item\tTime Scale\t"
    "Notes\tRead Access Driver\tRead/Write Access Driver\tStyle\tTime Range\tUse Switchover\tVersions\n"
    "Products over time\tPrice\tEnd\t-\tNumber\t-\t-\tAll\tfalse\tfalse\tfalse\tfalse\tMonth\t-\t-\t-\t"
    "Normal\tModel Calendar\ttrue\tNot Applicable\n"
)
"""The sample report of Anaplan's ALM API documentation, tabs restored."""


def report(*sections: tuple[str, list[str], list[list[str]]]) -> str:
    """A report: the header lines, then each (title, columns, rows) section."""
    parts = [HEADER]
    for title, columns, rows in sections:
        parts.append(f"\n=== {title} ===\n" + "\t".join(columns) + "\n")
        parts.append("".join("\t".join(row) + "\n" for row in rows))
    return "".join(parts)


def summary(**differences: dict[str, int]) -> SummaryReport:
    totals = {a: sum(c.get(a, 0) for c in differences.values()) for a in ("created", "modified", "deleted")}
    body: dict[str, Any] = {
        "targetRevisionId": "795731A31D1A47EFB3802EA6355C62C4",
        "sourceRevisionId": "E7F72A49B23C43638DC77839D78B33BE",
        "totals": totals,
        "differences": differences,
    }
    return SummaryReport.model_validate(body)
