"""``assess``: a plan's comparison summary and, when read, its full report → one ``Risk``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Final

from alm_bot.anaplan.models import SummaryReport
from alm_bot.radar.findings import Finding, ReportReading, Risk
from alm_bot.radar.report import HEADER_LABELS, ComparisonReport, parse_report
from alm_bot.radar.rules import finding
from alm_bot.radar.sections import SECTIONS, check_section
from alm_bot.radar.summary import check_summary

__all__ = ["KEEP_FINDINGS", "MAX_REPORT_BYTES", "assess", "combine", "read_report"]

MAX_REPORT_BYTES: Final = 8 * 1024 * 1024
"""The largest full report the radar reads (Anaplan's reports run to hundreds of KB)."""
KEEP_FINDINGS: Final = 200
"""Findings a stored reading or verdict keeps (the most severe first); the rest are counted."""


def assess(
    summary: SummaryReport | None,
    report: str | bytes | None = None,
    *,
    report_unavailable: str | None = None,
    max_report_bytes: int = MAX_REPORT_BYTES,
) -> Risk:
    """The verdict on a plan.

    ``report`` is the full comparison report's body as downloaded (at most ``max_report_bytes`` are
    read: a caller may stop downloading past the cap and pass what it has). ``report_unavailable``
    says why a report that was wanted could not be fetched. Without either, only the summary counts.
    """
    reading = None if report is None else _read(report, max_report_bytes)
    return _combine(summary, reading, report_unavailable, keep=None)


def read_report(report: str | bytes, *, max_report_bytes: int = MAX_REPORT_BYTES) -> ReportReading:
    """The report's part of the verdict, to keep until the summary arrives (see ``combine``)."""
    findings, rows = _read(report, max_report_bytes)
    flat = None if rows is None else tuple((c, a, n) for (c, a), n in sorted(rows.items()))
    return ReportReading(risk=Risk.of(findings, keep=KEEP_FINDINGS), rows=flat)


def combine(
    summary: SummaryReport | None,
    reading: ReportReading | None,
    *,
    report_unavailable: str | None = None,
    keep: int | None = KEEP_FINDINGS,
) -> Risk:
    """``assess`` from a stored ``read_report`` reading and the summary (``None``: not read)."""
    parts = None
    if reading is not None:
        rows = None if reading.rows is None else Counter({(c, a): n for c, a, n in reading.rows})
        parts = (list(reading.risk.findings), rows)
    omitted = reading.risk.omitted if reading is not None else 0
    return _combine(summary, parts, report_unavailable, keep=keep, omitted=omitted)


_Parts = tuple[list[Finding], Counter[tuple[str, str]] | None]


def _combine(
    summary: SummaryReport | None,
    reading: _Parts | None,
    report_unavailable: str | None,
    *,
    keep: int | None,
    omitted: int = 0,
) -> Risk:
    if summary is None and reading is None and report_unavailable is None:
        reason = "Neither the comparison summary nor the full report was read"
        return Risk.of([finding("nothing-read", "summary", "comparison summary", reason)])
    findings: list[Finding] = []
    rows: Counter[tuple[str, str]] | None = None
    if reading is not None:
        findings, rows = list(reading[0]), reading[1]
    elif report_unavailable is not None:
        reason = f"The full comparison report could not be read: {report_unavailable}"
        findings.append(finding("report-unavailable", "report", "comparison report", reason))
    if summary is not None:
        findings += check_summary(summary, rows)
    return Risk.of(findings, keep=keep, omitted=omitted)


def _read(report: str | bytes, max_report_bytes: int) -> _Parts:
    size = len(report.encode() if isinstance(report, str) else report)
    if size > max_report_bytes:
        reason = (
            f"The comparison report is over the radar's {_size(max_report_bytes)} limit "
            f"({_size(size)} or more): its changes were not read"
        )
        return [finding("report-too-large", "report", "comparison report", reason)], None
    parsed = parse_report(report.decode("utf-8-sig", "replace") if isinstance(report, bytes) else report)
    return list(_report_findings(parsed)), _rows(parsed)


def _report_findings(report: ComparisonReport) -> Iterator[Finding]:
    if missing := sorted(HEADER_LABELS - report.header_labels):
        reason = f"The report lacks header lines that Anaplan writes: {', '.join(missing)}"
        yield finding("report-unknown", "report", "header", reason)
    for line in report.stray_lines[:3]:
        reason = f"The report has a line outside any section the radar does not know: {line[:80]}"
        yield finding("report-unknown", "report", line[:80], reason)
    for section in report.sections:
        yield from check_section(section)


def _rows(report: ComparisonReport) -> Counter[tuple[str, str]]:
    """Rows of the report's known sections, by summary category and action."""
    listed: Counter[tuple[str, str]] = Counter()
    for section in report.sections:
        if (kind := SECTIONS.get(section.title.upper())) is not None:
            listed[kind.category, kind.action] += len(section.lines)
    return listed


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"
