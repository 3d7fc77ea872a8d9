"""May a model change now? Deny wins over allow; a model with allow windows changes only inside one.

``decide`` answers for one instant and says when the change may run otherwise; ``overview`` lists,
per window that applies, whether it is open now and its next opening (what each front end lists).
The reasons are plain sentences of fact; each front end frames them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from alm_bot.windows.window import ChangeWindow, Occurrence, utc_instant

__all__ = ["HORIZON", "WindowDecision", "WindowState", "decide", "decide_all", "local_label", "overview"]

HORIZON: Final = timedelta(days=366)
"""How far ahead ``decide`` looks for the next opening before it says there is none."""

_MAX_STEPS: Final = 10_000
_UTC: Final = ZoneInfo("UTC")


@dataclass(frozen=True, slots=True)
class WindowDecision:
    """The answer for one model at one instant.

    ``deciding`` is the opening that decides (the deny that blocks, the allow that permits), or
    ``None`` when no window applies or the model is outside all of its allow windows. ``runs_at`` is
    the instant itself when ``may_run``, else the next instant a change may start (``None``: none
    within ``HORIZON``).
    """

    may_run: bool
    reason: str
    deciding: Occurrence | None
    runs_at: datetime | None
    zone: ZoneInfo = _UTC
    """The zone to show ``runs_at`` in: that of the window that sets it."""

    def runs_at_label(self, now: datetime) -> str | None:
        """``Tue 22:00 Europe/London`` (for "runs at …"), or ``None`` when there is no start."""
        return None if self.runs_at is None else local_label(self.runs_at, self.zone, now)


@dataclass(frozen=True, slots=True)
class WindowState:
    """One window that applies to a model: the opening in force now, if any, and the next one."""

    window: ChangeWindow
    current: Occurrence | None
    next: Occurrence | None


def local_label(instant: datetime, zone: ZoneInfo, now: datetime) -> str:
    """``Tue 22:00 Europe/London`` within the coming week, else ``Tue 22 Dec 2026 22:00 Europe/London``."""
    local = instant.astimezone(zone)
    if timedelta(0) <= instant - now < timedelta(days=6):
        return f"{local:%a %H:%M} {zone.key}"
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} {zone.key}"


def applicable(windows: Sequence[ChangeWindow], names: Collection[str]) -> list[ChangeWindow]:
    """The windows that cover a model known by ``names`` (its aliases and id)."""
    return [w for w in windows if w.applies_to(names)]


def decide(windows: Sequence[ChangeWindow], names: Collection[str], at: datetime) -> WindowDecision:
    """Whether a change to the model may start at ``at`` (aware), which window decides, and when."""
    now = utc_instant(at)
    mine = applicable(windows, names)
    if not mine:
        return WindowDecision(True, "no change window applies to this model", None, now)
    limit = now + HORIZON
    deny_ends = _deny_ends(mine, now, limit)
    if deny_ends:
        closes, deny = max(deny_ends.items(), key=lambda item: item[0])
        until = "beyond a year" if closes >= limit else f"until {local_label(closes, deny.window.zone, now)}"
        reason = f"deny window {deny.window.label!r} is open {until}"
        return WindowDecision(False, reason, deny, _next_start(mine, closes, limit), deny.window.zone)
    allows = [w for w in mine if w.kind == "allow"]
    if not allows:
        return WindowDecision(True, "no deny window is open", None, now)
    allow = _open(mine, "allow", now)
    if allow is not None:
        until = local_label(allow.closes, allow.window.zone, now)
        reason = f"inside allow window {allow.window.label!r} until {until}"
        return WindowDecision(True, reason, allow, now, allow.window.zone)
    runs_at = _next_start(mine, now, limit)
    if runs_at is None:
        return WindowDecision(False, "outside every allow window, and none opens within a year", None, None)
    opening = _open(mine, "allow", runs_at)
    zone = opening.window.zone if opening is not None else allows[0].zone
    reason = f"outside every allow window; the next opens {local_label(runs_at, zone, now)}"
    return WindowDecision(False, reason, None, runs_at, zone)


def decide_all(
    windows: Sequence[ChangeWindow], targets: Sequence[Collection[str]], at: datetime
) -> WindowDecision:
    """`decide` for a change into several models at once (a release): each target is named by its
    names (aliases and id). It may run when every target may; otherwise ``runs_at`` is the first
    instant at which all of them may, and the reason is that of the first target blocked now."""
    now = utc_instant(at)
    first = [decide(windows, names, now) for names in targets]
    blocked = next((d for d in first if not d.may_run), None)
    if blocked is None:
        return next((d for d in first if d.deciding is not None), first[0])
    candidate: datetime | None = now
    for _ in range(_MAX_STEPS):
        if candidate is None or candidate > now + HORIZON:
            candidate = None
            break
        later = [d for names in targets if not (d := decide(windows, names, candidate)).may_run]
        if not later:
            break
        starts = [d.runs_at for d in later]
        candidate = None if None in starts else max(s for s in starts if s is not None)
    if candidate is None:
        return WindowDecision(False, blocked.reason, blocked.deciding, None, blocked.zone)
    return WindowDecision(False, blocked.reason, blocked.deciding, candidate, blocked.zone)


def overview(windows: Sequence[ChangeWindow], names: Collection[str], at: datetime) -> list[WindowState]:
    """Each window that applies, with its opening in force at ``at`` and its next opening."""
    return [WindowState(w, w.occurrence_at(at), w.first_after(at)) for w in applicable(windows, names)]


def _open(windows: Sequence[ChangeWindow], kind: str, at: datetime) -> Occurrence | None:
    """The open window of ``kind`` at ``at`` that stays open longest, if any."""
    found = [o for w in windows if w.kind == kind and (o := w.occurrence_at(at)) is not None]
    return max(found, key=lambda o: o.closes, default=None)


def _deny_ends(windows: Sequence[ChangeWindow], at: datetime, limit: datetime) -> dict[datetime, Occurrence]:
    """The deny windows open at ``at``: when each one's stretch of openings closes → its opening now."""
    ends: dict[datetime, Occurrence] = {}
    for window in windows:
        if window.kind == "deny" and (opening := window.occurrence_at(at)) is not None:
            ends.setdefault(window.open_until(at, limit) or opening.closes, opening)
    return ends


def _next_start(windows: Sequence[ChangeWindow], after: datetime, limit: datetime) -> datetime | None:
    """The first instant from ``after`` to ``limit`` outside every deny and inside an allow (if any)."""
    allows = [w for w in windows if w.kind == "allow"]
    candidate = after
    for _ in range(_MAX_STEPS):
        if candidate > limit:
            return None
        deny_ends = _deny_ends(windows, candidate, limit)
        if deny_ends:
            candidate = max(deny_ends)
            continue
        if not allows or _open(windows, "allow", candidate) is not None:
            return candidate
        openings = [o.opens for w in allows if (o := w.first_after(candidate)) is not None]
        if not openings:
            return None
        candidate = min(openings)
    return None
