"""The full comparison report (tab-separated text, reference §4.10c), read into sections.

Layout (Anaplan's documented sample): header lines ``label<TAB>value…`` (Source/Target Workspace,
Model, Revision), then sections, each a line ``=== TITLE ===``, a header row of column names and one
row per object, separated by blank lines. Rows are kept as cells by column name; a row shorter than
its header has empty cells, and one longer keeps its extra cells under ``""`` (an unknown column).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final

__all__ = ["HEADER_LABELS", "ComparisonReport", "ReportSection", "parse_report"]

HEADER_LABELS: Final = frozenset(
    f"{side} {what}" for side in ("Source", "Target") for what in ("Workspace", "Model", "Revision")
)
_SECTION: Final = re.compile(r"^===\s*(.*?)\s*===\s*$")


@dataclass(frozen=True, slots=True)
class ReportSection:
    """One ``=== TITLE ===`` block: its column names and its row lines, read into cells on demand
    (most rows of a large report are additions, which no rule needs to look inside)."""

    title: str
    columns: tuple[str, ...]
    lines: tuple[str, ...]

    def rows(self) -> Iterator[dict[str, str]]:
        """Each row's cells by column name."""
        for line in self.lines:
            yield _cells(self.columns, line.split("\t"))

    @property
    def has_extra_cells(self) -> bool:
        """True when a row has more non-empty cells than the header has columns."""
        width = len(self.columns)
        return any(
            line.count("\t") >= width and "" in _cells(self.columns, line.split("\t")) for line in self.lines
        )


@dataclass(frozen=True, slots=True)
class ComparisonReport:
    """The report's sections in order, and any line outside a section that is not a known header."""

    sections: tuple[ReportSection, ...]
    stray_lines: tuple[str, ...] = field(default=())
    header_labels: frozenset[str] = field(default=frozenset())


def parse_report(text: str) -> ComparisonReport:
    """Read the report's text; never fails (what it cannot place is kept as a stray line)."""
    sections: list[ReportSection] = []
    stray: list[str] = []
    labels: set[str] = set()
    title: str | None = None
    columns: tuple[str, ...] | None = None
    rows: list[str] = []

    def close() -> None:
        if title is not None:
            sections.append(ReportSection(title, columns or (), tuple(rows)))

    for line in text.splitlines():
        if not line.strip():
            continue
        heading = _SECTION.match(line)
        if heading:
            close()
            title, columns, rows = heading[1], None, []
        elif title is None:
            label = line.split("\t", 1)[0].strip()
            if label in HEADER_LABELS:
                labels.add(label)
            else:
                stray.append(line)
        elif columns is None:
            columns = tuple(c.strip() for c in line.split("\t"))
        else:
            rows.append(line)
    close()
    return ComparisonReport(tuple(sections), tuple(stray), frozenset(labels))


def _cells(columns: tuple[str, ...], values: list[str]) -> dict[str, str]:
    cells = dict(zip(columns, map(str.strip, values), strict=False))
    if len(values) < len(columns):
        cells.update(dict.fromkeys(columns[len(values) :], ""))
    elif len(values) > len(columns) and (extra := [v.strip() for v in values[len(columns) :] if v.strip()]):
        cells[""] = "\t".join(extra)
    return cells
