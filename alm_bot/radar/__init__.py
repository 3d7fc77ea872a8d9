"""The data-loss radar: what will a sync destroy? Pure — no I/O.

``assess(summary, report)`` turns a plan's comparison summary and, when available, its full
comparison report into a ``Risk``: a verdict — ``safe``, ``review``, ``unknown`` or ``data-loss`` —
and one ``Finding`` per hit (rule id, category, object, module, a plain reason). The rules live in
one table (``rules.RULES``) with the source of each; what the radar cannot read is never ``safe``.

Modules: ``findings`` (the records), ``rules`` (the table and its sources), ``report`` (reading the
tab-separated report), ``sections`` (what each report section means), ``periods`` (switchover
periods), ``summary`` (the counts), ``assess`` (putting it together: at once, or ``read_report``
first and ``combine`` once the summary is in, as preflight does).
"""

from __future__ import annotations

from alm_bot.radar.assess import KEEP_FINDINGS, MAX_REPORT_BYTES, assess, combine, read_report
from alm_bot.radar.findings import SEVERITY, Finding, ReportReading, Risk, Verdict, worst
from alm_bot.radar.report import ComparisonReport, ReportSection, parse_report
from alm_bot.radar.rules import RULES, Rule

__all__ = [
    "KEEP_FINDINGS",
    "MAX_REPORT_BYTES",
    "RULES",
    "SEVERITY",
    "ComparisonReport",
    "Finding",
    "ReportReading",
    "ReportSection",
    "Risk",
    "Rule",
    "Verdict",
    "assess",
    "combine",
    "parse_report",
    "read_report",
    "worst",
]
