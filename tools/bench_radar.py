"""Radar: the data-loss verdict of a 10,000-row comparison report, vs only splitting its lines and tabs.

The report is built in memory the way Anaplan lays it out (six header lines, ``=== SECTION ===``
blocks): 6,000 line items added, 2,000 changed (half with a ``before → after`` formula cell, some
applies-to and time-scale changes), 1,000 deleted, 500 modules changed and 500 lists changed within —
so every row goes through a rule. What is timed is ``alm_bot.radar.assess(summary, report_bytes)``
from the downloaded bytes to the ``Risk`` (decoding, parsing, rules, findings); the baseline is the
least any reader of the report must do, ``bytes.decode()`` then splitting every line on tabs. Both run
alternately, ``runs`` times each, after one untimed warm-up; the values are medians. The goal is the
radar's share of the approval card's time budget (Slack's 3 s for an answer): ≤ 250 ms.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

from alm_bot.anaplan.models import SummaryReport
from alm_bot.radar import assess
from tools.bench_report import Row, at_most, ms

__all__ = ["build_report", "run_radar_benchmarks"]

ROWS = 10_000
_HEADER = "".join(
    f"{side} {what}\tFP&A\t{'0' * 32}\n"
    for side in ("Source", "Target")
    for what in ("Workspace", "Model", "Revision")
)
_LINE_ITEM_COLUMNS = "Module\tLine Item\tData Type\tFormula\tApplies To\tTime Scale\tNotes"


def _line_item(n: int, formula: str, applies_to: str, time_scale: str) -> str:
    return f"M{n % 300:03d} Module\tLine Item {n}\tNumber\t{formula}\t{applies_to}\t{time_scale}\t-"


def build_report() -> tuple[SummaryReport, bytes]:
    """The summary and report bytes of a 10,000-row comparison (the counts agree)."""
    added = [_line_item(n, "A * B", "Products, Time", "Month") for n in range(6000)]
    changed = [
        _line_item(
            n,
            " → Price Book.Price" if n % 2 else "A * B → A * B * 2",
            "E1 Region → E2 Country" if n % 10 == 0 else "Products",
            "Month → Quarter" if n % 25 == 0 else "Month",
        )
        for n in range(2000)
    ]
    deleted = [_line_item(n, "", "Products", "Month") for n in range(1000)]
    modules = [f"M{n:03d} Module\tProducts → Products, Versions\tMonth" for n in range(500)]
    within = [f"List {n}\t3\t{n % 2}\t1\t0\t0\t0\t0" for n in range(500)]
    sections = [
        ("LINE ITEMS ADDED", _LINE_ITEM_COLUMNS, added),
        ("LINE ITEMS CHANGED", _LINE_ITEM_COLUMNS, changed),
        ("LINE ITEMS DELETED", _LINE_ITEM_COLUMNS, deleted),
        ("MODULES CHANGED", "Name\tApplies To\tTime Scale", modules),
        (
            "CHANGES WITHIN LISTS",
            "List\tItems Added/Moved\tItems Deleted\tItems Changed\tProperties Added\tProperties Moved\t"
            "Properties Deleted\tProperties Changed",
            within,
        ),
    ]
    text = _HEADER + "".join(f"\n=== {t} ===\n{c}\n" + "\n".join(rows) + "\n" for t, c, rows in sections)
    summary = SummaryReport.model_validate(
        {
            "targetRevisionId": "0" * 32,
            "sourceRevisionId": "1" * 32,
            "totals": {"created": 6000, "modified": 3000, "deleted": 1000},
            "differences": {
                "lineItems": {"created": 6000, "modified": 2000, "deleted": 1000},
                "modules": {"modified": 500},
                "lists": {"modified": 500},
            },
        }
    )
    return summary, text.encode()


def _split(body: bytes) -> int:
    return sum(len(line.split("\t")) for line in body.decode().splitlines())


async def run_radar_benchmarks(workdir: Path, *, quick: bool) -> tuple[list[Row], dict[str, float]]:
    runs = 5 if quick else 15
    summary, body = build_report()
    findings = len(assess(summary, body).findings)  # warm-up, and what it found
    _split(body)
    ours, base = [], []
    for _ in range(runs):
        started = time.perf_counter()
        assess(summary, body)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        _split(body)
        base.append(time.perf_counter() - started)
    radar, split = statistics.median(ours), statistics.median(base)
    rows = [
        Row(
            "9 radar",
            f"verdict of a {ROWS:,}-row comparison report ({len(body) // 1024} KB), median of {runs} "
            "(baseline: decode and split its lines and tabs)",
            ms(radar),
            ms(split),
            radar * 1000,
            " ms",
            at_most(250),
        ),
        Row("9 radar", f"ratio to the baseline; {findings:,} findings", "", "", radar / split, "×"),
    ]
    return rows, {"radar_seconds": radar, "radar_split_seconds": split, "radar_findings": float(findings)}
