"""The comparison summary's part of the verdict: counts by category, no names.

Deleted line items, modules or lists already mean ``data-loss``. Changed ones mean ``review`` when the
full report is not read (only it says what changed). Categories the radar does not know, or totals
that no category explains, mean ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from alm_bot.anaplan.models import SummaryCounts, SummaryReport
from alm_bot.radar.findings import Finding, counted
from alm_bot.radar.rules import finding

__all__ = ["DATA_CATEGORIES", "KNOWN_CATEGORIES", "check_summary"]

DATA_CATEGORIES: Final = {"lineItems": "line item", "modules": "module", "lists": "list"}
"""Categories whose objects hold data in the target, with their plain names."""
KNOWN_CATEGORIES: Final = frozenset({*DATA_CATEGORIES, "rolesContents", "listSubsets"})


def check_summary(
    summary: SummaryReport, report_rows: Mapping[tuple[str, str], int] | None
) -> Iterator[Finding]:
    """Findings from the counts. With the report read (``report_rows``: its rows by category and
    action), its rows speak instead, and the counts only check that the report shows them."""
    for category, counts in summary.differences.items():
        if category not in KNOWN_CATEGORIES:
            what = f"{category} ({_counts(counts)})"
            reason = f"The summary counts changes in a category the radar does not know: {what}"
            yield finding("summary-unknown", "summary", category, reason)
        elif category in DATA_CATEGORIES:
            yield from _data_category(category, counts, report_rows)
        elif category == "listSubsets" and (counts.modified or counts.deleted) and report_rows is None:
            subsets = counted(counts.modified + counts.deleted, "changed or deleted list subset")
            reason = f"The summary counts {subsets}"
            yield finding("subset-changed", category, "list subsets", reason)
    explained = sum(c.total for c in summary.differences.values())
    if summary.totals.total > explained:
        reason = f"The summary counts {summary.totals.total} changes but its categories explain {explained}"
        yield finding("summary-unknown", "summary", "totals", reason)


def _data_category(
    category: str, counts: SummaryCounts, report_rows: Mapping[tuple[str, str], int] | None
) -> Iterator[Finding]:
    plain = DATA_CATEGORIES[category]
    deleted = report_rows.get((category, "deleted"), 0) if report_rows is not None else 0
    if counts.deleted > deleted:
        yield finding(
            "summary-deleted",
            category,
            plain,
            f"The summary counts {counted(counts.deleted, 'deleted ' + plain)}: their data is lost",
        )
        if report_rows is not None:
            reason = (
                f"The summary counts {counted(counts.deleted, 'deleted ' + plain)} but the report lists "
                f"{deleted}: "
                "the radar cannot name them all"
            )
            yield finding("report-disagrees", category, plain, reason)
    if not counts.modified:
        return
    if report_rows is None:
        reason = (
            f"The summary counts {counted(counts.modified, 'changed ' + plain)}; without the full comparison "
            "report the radar cannot tell whether their data survives"
        )
        yield finding("summary-changed", category, plain, reason)
    elif not report_rows.get((category, "modified"), 0):
        reason = (
            f"The summary counts {counted(counts.modified, 'changed ' + plain)} but the report shows none: "
            "the radar cannot see what changed"
        )
        yield finding("report-disagrees", category, plain, reason)


def _counts(counts: SummaryCounts) -> str:
    parts = [f"{n} {action}" for action, n in counts.model_dump().items() if n]
    return ", ".join(parts) or "no counts"
