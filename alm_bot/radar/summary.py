"""The comparison summary's part of the verdict: counts by category, no names.

Deleted line items, modules or lists already mean ``data-loss``. Changed ones mean ``review`` when the
full report is not read (only it says what changed). Categories the radar does not know, or totals
that no category explains, mean ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Final

from alm_bot.anaplan.models import SummaryCounts, SummaryReport
from alm_bot.radar.findings import Finding
from alm_bot.radar.rules import finding

__all__ = ["DATA_CATEGORIES", "KNOWN_CATEGORIES", "check_summary"]

DATA_CATEGORIES: Final = {"lineItems": "line items", "modules": "modules", "lists": "lists"}
"""Categories whose objects hold data in the target, with their plain names."""
KNOWN_CATEGORIES: Final = frozenset({*DATA_CATEGORIES, "rolesContents", "listSubsets"})


def check_summary(summary: SummaryReport, deleted_in_report: Mapping[str, int] | None) -> Iterator[Finding]:
    """Findings from the counts. With the report read (``deleted_in_report``: rows of its DELETED
    sections by category), its rows speak instead, and the counts only check that none is missing."""
    report_read = deleted_in_report is not None
    for category, counts in summary.differences.items():
        if category not in KNOWN_CATEGORIES:
            what = f"{category} ({_counts(counts)})"
            reason = f"The summary counts changes in a category the radar does not know: {what}"
            yield finding("summary-unknown", "summary", category, reason)
        elif category in DATA_CATEGORIES:
            plain = DATA_CATEGORIES[category]
            listed = deleted_in_report.get(category, 0) if deleted_in_report is not None else 0
            if counts.deleted > listed:
                reason = f"The summary counts {counts.deleted} deleted {plain}: their data is lost"
                yield finding("summary-deleted", category, plain, reason)
                if report_read:
                    reason = (
                        f"The summary counts {counts.deleted} deleted {plain} but the report lists "
                        f"{listed}: the radar cannot name them all"
                    )
                    yield finding("report-disagrees", category, plain, reason)
            if counts.modified and not report_read:
                reason = (
                    f"The summary counts {counts.modified} changed {plain}; without the full comparison "
                    "report the radar cannot tell whether their data survives"
                )
                yield finding("summary-changed", category, plain, reason)
        elif category == "listSubsets" and (counts.modified or counts.deleted) and not report_read:
            reason = f"The summary counts {counts.modified + counts.deleted} changed or deleted list subsets"
            yield finding("subset-changed", category, "list subsets", reason)
    explained = sum(c.total for c in summary.differences.values())
    if summary.totals.total > explained:
        reason = f"The summary counts {summary.totals.total} changes but its categories explain {explained}"
        yield finding("summary-unknown", "summary", "totals", reason)


def _counts(counts: SummaryCounts) -> str:
    parts = [f"{n} {action}" for action, n in counts.model_dump().items() if n]
    return ", ".join(parts) or "no counts"
