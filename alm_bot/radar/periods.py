"""Time periods as the comparison report may write them, to tell whether a switchover moves back."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["moves_back", "period_index"]

_MONTH_NAMES: Final = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS: Final = {m: n for n, m in enumerate(_MONTH_NAMES, start=1)}
_MONTH_YEAR: Final = re.compile(r"^([A-Za-z]{3})[A-Za-z]*[\s\-/]*'?(\d{2}|\d{4})$")
_ISO_MONTH: Final = re.compile(r"^(\d{4})-(\d{1,2})$")


def period_index(label: str) -> int | None:
    """Months since year 0 for ``Jan 26``, ``Jan 2026``, ``January-26``, ``2026-01``; else ``None``."""
    text = label.strip()
    if match := _ISO_MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        return year * 12 + month if 1 <= month <= 12 else None
    if (match := _MONTH_YEAR.match(text)) and match[1].lower() in _MONTHS:
        year = int(match[2]) + (2000 if len(match[2]) == 2 else 0)
        return year * 12 + _MONTHS[match[1].lower()]
    return None


def moves_back(old: str, new: str) -> bool | None:
    """True if ``new`` is an earlier period than ``old``; ``None`` when either cannot be read."""
    before, after = period_index(old), period_index(new)
    if before is None or after is None:
        return None
    return after < before
