"""Numbers and the table of `tools/bench.py`: percentiles, one row per measure, the printed table.

A `Row` is one measure of one scenario: alm-bot's value, the baseline measured in the same run
(when there is one), their ratio and the goal it is held to. Goals are checked here and only here —
speed and memory are never asserted in tests.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Row", "at_least", "at_most", "below", "ms", "percentile", "render_table", "summary"]


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` (0..1) percentile by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    """Median, p95, p99 and max of a sample (what the table shows)."""
    return {
        "p50": statistics.median(values) if values else math.nan,
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values) if values else math.nan,
        "n": float(len(values)),
    }


Check = Callable[[float], bool]


def at_most(limit: float) -> tuple[str, Check]:
    return f"≤ {limit:g}", lambda value: value <= limit


def at_least(limit: float) -> tuple[str, Check]:
    return f"≥ {limit:g}", lambda value: value >= limit


def below(limit: float) -> tuple[str, Check]:
    return f"< {limit:g}", lambda value: value < limit


@dataclass
class Row:
    """One measure. ``value`` is what the goal is checked against (often a ratio)."""

    scenario: str
    measure: str
    ours: str
    baseline: str = ""
    value: float = math.nan
    unit: str = ""
    goal: tuple[str, Check] | None = None

    @property
    def met(self) -> bool | None:
        if self.goal is None or math.isnan(self.value):
            return None
        return self.goal[1](self.value)

    def cells(self) -> list[str]:
        shown = "" if math.isnan(self.value) else f"{self.value:.3g}{self.unit}"
        verdict = {None: "", True: "met", False: "NOT MET"}[self.met]
        goal = f"{self.goal[0]}{self.unit}" if self.goal else ""
        return [self.scenario, self.measure, self.ours, self.baseline, shown, goal, verdict]


_HEADER = ["scenario", "measure", "alm-bot", "baseline (same run)", "value", "goal", ""]


def render_table(rows: Sequence[Row]) -> str:
    """A Markdown table (it reads fine in a terminal and pastes into the README)."""
    table = [_HEADER, *(row.cells() for row in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_HEADER))]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(table[0]), rule, *(line(cells) for cells in table[1:])])


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"
