"""One change window: which models it covers, deny or allow, and when it is open.

A window is open either on a schedule (a five-field ``cron`` expression for its opening, local to its
time zone, and a ``duration``) or once (``start`` and ``end``, local wall-clock times in its zone).
Every instant this module returns is an aware UTC ``datetime``; wall-clock times exist only inside.

Daylight-saving rules (cron follows Debian cron, which ``cronsim`` implements):

- a fixed-time opening that falls in the hour skipped in spring (01:30 in Europe/London, 02:30 in
  America/New_York) happens at the first minute that exists after it (02:00 BST, 03:00 EDT);
- a fixed-time opening that falls in the hour repeated in autumn happens once, at its first occurrence;
  expressions with ``*`` in the minute or hour field fire in both copies of that hour;
- ``duration`` is elapsed time: a 4h window opening at 00:00 on the autumn change day closes at 03:00
  on the wall clock;
- ``start``/``end`` in a skipped hour move to the first minute that exists; in a repeated hour they mean
  the first occurrence.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

__all__ = [
    "ANY_MODEL",
    "ChangeWindow",
    "Kind",
    "Occurrence",
    "Once",
    "Recurring",
    "local_instant",
    "parse_cron",
    "parse_zone",
    "utc_instant",
]

Kind = Literal["deny", "allow"]
ANY_MODEL: Final = "*"
_MINUTE: Final = timedelta(minutes=1)
STRETCH_OPENINGS: Final = 20_000
"""Back-to-back openings ``open_until`` follows (a per-minute cron: about two weeks)."""


def parse_zone(name: str) -> ZoneInfo:
    """An IANA time zone by name; ``ValueError`` naming the problem otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not an IANA time zone (like Europe/London or UTC)") from None


def parse_cron(expression: str) -> str:
    """A five-field cron expression (minute hour day-of-month month day-of-week), checked."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"{expression!r} is not a cron expression: it needs five fields, minute hour day-of-month "
            'month day-of-week (like "0 22 * * 1-5")'
        )
    try:
        CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ValueError(f"{expression!r} is not a cron expression: {str(exc).lower()}") from None
    return " ".join(fields)


def local_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time in ``zone`` (first occurrence; skipped times move forward)."""
    candidate = wall.replace(tzinfo=zone, fold=0)
    while candidate.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != candidate.replace(tzinfo=None):
        candidate = (candidate.replace(tzinfo=None) + _MINUTE).replace(tzinfo=zone, fold=0)
    return candidate.astimezone(UTC)


def utc_instant(instant: datetime) -> datetime:
    """``instant`` in UTC; ``ValueError`` for a naive one (whose zone nobody knows)."""
    if instant.tzinfo is None:
        raise ValueError("change windows compare aware instants only")
    return instant.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One opening of a window: ``opens <= t < closes`` (UTC)."""

    window: ChangeWindow
    opens: datetime
    closes: datetime

    def covers(self, instant: datetime) -> bool:
        return self.opens <= utc_instant(instant) < self.closes


@dataclass(frozen=True, slots=True)
class Recurring:
    """Opens at each ``cron`` time (wall clock of the window's zone) for ``duration`` (elapsed)."""

    cron: str
    duration: timedelta


@dataclass(frozen=True, slots=True)
class Once:
    """Open from ``opens`` to ``closes`` (UTC), once."""

    opens: datetime
    closes: datetime


@dataclass(frozen=True, slots=True)
class ChangeWindow:
    """A validated window. Build it with ``recurring`` or ``once``; ``number`` is its place in the file."""

    number: int
    models: frozenset[str]
    kind: Kind
    zone: ZoneInfo
    timing: Recurring | Once
    reason: str = ""

    @classmethod
    def recurring(
        cls, number: int, models: Collection[str], kind: Kind, cron: str, duration: timedelta, zone: str,
        reason: str = "",
    ) -> ChangeWindow:  # fmt: skip
        if duration <= timedelta(0):
            raise ValueError("duration must be longer than zero")
        timing = Recurring(parse_cron(cron), duration)
        return cls(number, _names(models), kind, parse_zone(zone), timing, reason)

    @classmethod
    def once(
        cls, number: int, models: Collection[str], kind: Kind, start: datetime, end: datetime, zone: str,
        reason: str = "",
    ) -> ChangeWindow:  # fmt: skip
        tz = parse_zone(zone)
        opens, closes = local_instant(start, tz), local_instant(end, tz)
        if closes <= opens:
            raise ValueError(f"end ({end:%Y-%m-%dT%H:%M}) is not after start ({start:%Y-%m-%dT%H:%M})")
        return cls(number, _names(models), kind, tz, Once(opens, closes), reason)

    @property
    def label(self) -> str:
        """How people name it: its reason, else its place in the file."""
        return self.reason or f"window {self.number}"

    @property
    def schedule(self) -> str:
        """``0 22 * * 1-5 for 2h (Europe/London)`` or ``2026-12-24 00:00 to 2026-12-27 00:00 (UTC)``."""
        if isinstance(self.timing, Recurring):
            return f"{self.timing.cron} for {_duration_text(self.timing.duration)} ({self.zone.key})"
        start, end = self.timing.opens.astimezone(self.zone), self.timing.closes.astimezone(self.zone)
        return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} ({self.zone.key})"

    def applies_to(self, names: Collection[str]) -> bool:
        """True for ``"*"`` or when one of the model's names (aliases, id) is listed."""
        return ANY_MODEL in self.models or not self.models.isdisjoint(n.casefold() for n in names)

    def occurrence_at(self, instant: datetime) -> Occurrence | None:
        """The opening that covers ``instant``, if any (the one closing last when openings overlap)."""
        at = utc_instant(instant)
        if isinstance(self.timing, Once):
            once = Occurrence(self, self.timing.opens, self.timing.closes)
            return once if once.covers(at) else None
        # Openings after (at - duration) are the ones still open at `at`; the latest closes last.
        latest = None
        for occurrence in self._openings_after(at - self.timing.duration):
            if occurrence.opens > at:
                break
            latest = occurrence
        return latest

    def open_until(self, instant: datetime, limit: datetime) -> datetime | None:
        """When the stretch of back-to-back openings covering ``instant`` closes (``None``: not open).

        ``* 9-17 * * 1-5`` for ``1m`` is one stretch from 09:00 to 18:00. Stops at ``limit``; a
        stretch of more than ``STRETCH_OPENINGS`` openings counts as lasting to ``limit`` (the
        cautious answer, for a deny window: no change within the horizon).
        """
        current = self.occurrence_at(instant)
        if current is None:
            return None
        end = current.closes
        for count, following in enumerate(self._openings_after(current.opens)):
            if following.opens > end or end >= limit:
                break
            if count >= STRETCH_OPENINGS:
                return limit
            end = max(end, following.closes)
        return end

    def first_after(self, instant: datetime) -> Occurrence | None:
        """The first opening strictly after ``instant``; ``None`` if there is none (a past one-off)."""
        return next(self._openings_after(utc_instant(instant)), None)

    def _openings_after(self, after: datetime) -> Iterator[Occurrence]:
        if isinstance(self.timing, Once):
            if self.timing.opens > after:
                yield Occurrence(self, self.timing.opens, self.timing.closes)
            return
        duration = self.timing.duration
        # cronsim works on the wall clock; an autumn wall time can map before `after`: skip those.
        for fire in CronSim(self.timing.cron, after.astimezone(self.zone)):
            opens = fire.astimezone(UTC)
            if opens > after:
                yield Occurrence(self, opens, opens + duration)


def _names(models: Collection[str]) -> frozenset[str]:
    return frozenset(m.casefold() for m in models)


def _duration_text(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n]
    return "".join(parts) or f"{int(duration.total_seconds())}s"
