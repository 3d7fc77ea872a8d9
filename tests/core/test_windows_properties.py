"""Properties of change-window decisions, over random windows and instants around the DST days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from alm_bot.windows import ChangeWindow, decide

ZONES = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Australia/Sydney"])
CRONS = st.sampled_from(
    ["0 22 * * 1-5", "30 1 * * *", "30 2 * * *", "0 * * * *", "15 9-17 * * 1-5", "0 0 1 * *"]
)
# Around the 2026 changes: London 29 Mar / 25 Oct, New York 8 Mar / 1 Nov, Sydney 5 Apr / 4 Oct.
BASE = st.sampled_from(
    [datetime(2026, m, d, tzinfo=UTC) for m, d in ((3, 7), (3, 28), (10, 3), (10, 24), (10, 31))]
)
INSTANTS = st.builds(
    lambda base, minutes: base + timedelta(minutes=minutes), BASE, st.integers(0, 4 * 24 * 60)
)


@st.composite
def windows(draw: st.DrawFn) -> list[ChangeWindow]:
    found = []
    for number in range(1, draw(st.integers(1, 4)) + 1):
        kind = draw(st.sampled_from(["deny", "allow"]))
        zone = draw(ZONES)
        if draw(st.booleans()):
            minutes = draw(st.integers(1, 26 * 60))
            found.append(
                ChangeWindow.recurring(number, ["prod"], kind, draw(CRONS), timedelta(minutes=minutes), zone)
            )
        else:
            start = draw(INSTANTS).replace(tzinfo=None)
            end = start + timedelta(minutes=draw(st.integers(61, 3 * 24 * 60)))
            found.append(ChangeWindow.once(number, ["prod"], kind, start, end, zone))
    return found


@settings(max_examples=150, deadline=None)
@given(found=windows(), at=INSTANTS)
def test_the_promised_start_is_a_moment_the_change_may_run(found: list[ChangeWindow], at: datetime) -> None:
    decision = decide(found, {"prod"}, at)
    if decision.may_run:
        assert decision.runs_at == at
        return
    if decision.runs_at is None:
        return
    assert decision.runs_at > at
    assert decide(found, {"prod"}, decision.runs_at).may_run


@settings(max_examples=100, deadline=None)
@given(found=windows(), at=INSTANTS, fraction=st.floats(0, 1, exclude_max=True))
def test_no_moment_before_the_promised_start_may_run(
    found: list[ChangeWindow], at: datetime, fraction: float
) -> None:
    decision = decide(found, {"prod"}, at)
    if decision.may_run or decision.runs_at is None:
        return
    between = at + (decision.runs_at - at) * fraction
    assume(between < decision.runs_at)  # timedelta rounds to microseconds
    assert not decide(found, {"prod"}, between).may_run


@settings(max_examples=100, deadline=None)
@given(found=windows(), at=INSTANTS)
def test_deny_always_wins(found: list[ChangeWindow], at: datetime) -> None:
    if any(w.kind == "deny" and w.occurrence_at(at) is not None for w in found):
        assert not decide(found, {"prod"}, at).may_run
