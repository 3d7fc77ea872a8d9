"""What the radar says: a verdict and the findings behind it, as typed records of plain text."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["SEVERITY", "Finding", "ReportReading", "Risk", "Verdict", "counted", "worst"]

Verdict = Literal["safe", "review", "unknown", "data-loss"]
"""``safe``: nothing in the plan loses data. ``review``: changes a person should look at.
``unknown``: the radar could not read everything, so it cannot say ``safe``. ``data-loss``: the sync
destroys data in the target."""

SEVERITY: Final[dict[Verdict, int]] = {"safe": 0, "review": 1, "unknown": 2, "data-loss": 3}
"""``data-loss`` outranks ``unknown``: a plan known to destroy data says so even if part of it was
unreadable (and ``block_on_risk = "data-loss"`` still blocks it)."""


class Finding(BaseModel):
    """One reason for the verdict: which rule matched, on what, and why, in one plain sentence."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    rule: str
    category: str
    object: str
    module: str | None = None
    reason: str


class Risk(BaseModel):
    """The radar's answer for one plan: the worst verdict of its findings (``safe`` without any)."""

    model_config = ConfigDict(frozen=True)

    verdict: Verdict
    findings: tuple[Finding, ...] = ()
    omitted: int = 0
    """Findings left out to keep the stored record small (the least severe go first; never the verdict)."""

    @classmethod
    def of(cls, findings: Iterable[Finding], *, keep: int | None = None, omitted: int = 0) -> Risk:
        """The verdict of ``findings``, the most severe first; past ``keep`` they are only counted."""
        ordered = sorted(findings, key=lambda f: -SEVERITY[f.verdict])  # stable: report order within a level
        kept = ordered if keep is None else ordered[:keep]
        return cls(
            verdict=worst(f.verdict for f in ordered),
            findings=tuple(kept),
            omitted=omitted + len(ordered) - len(kept),
        )

    @property
    def count(self) -> int:
        """How many findings there are in all, kept or not."""
        return len(self.findings) + self.omitted


class ReportReading(BaseModel):
    """What the full report told the radar, kept until the summary is there to combine it with.

    ``risk`` holds the report's own findings; ``rows`` its rows by summary category and action
    (``None`` when the report was not read, e.g. over the size cap)."""

    model_config = ConfigDict(frozen=True)

    risk: Risk
    rows: tuple[tuple[str, str, int], ...] | None = None


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    return max(verdicts, key=SEVERITY.__getitem__, default="safe")


def counted(n: int, singular: str, plural: str | None = None) -> str:
    """``1 module``, ``2 modules``, ``3 properties`` (with ``plural``)."""
    return f"{n} {singular if n == 1 else plural or singular + 's'}"
