"""Change windows: deny wins, allow windows confine, next openings, and the daylight-saving days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alm_bot.windows import ChangeWindow, decide, decide_all, local_instant, local_label, overview

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
PROD = {"prod", "0123456789ABCDEF0123456789ABCDEF"}


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def evenings(number: int = 1, kind: str = "allow", models: tuple[str, ...] = ("prod",)) -> ChangeWindow:
    """Weekdays 22:00-00:00 London."""
    return ChangeWindow.recurring(
        number,
        models,
        kind,
        "0 22 * * 1-5",
        timedelta(hours=2),
        "Europe/London",
        "evening slot",  # type: ignore[arg-type]
    )


def freeze(
    start: datetime, end: datetime, zone: str = "UTC", models: tuple[str, ...] = ("*",)
) -> ChangeWindow:
    return ChangeWindow.once(9, models, "deny", start, end, zone, "Q4 close")


def openings(window: ChangeWindow, after: datetime, until: datetime) -> list[datetime]:
    found, cursor = [], after
    while (next_one := window.first_after(cursor)) is not None and next_one.opens < until:
        found.append(next_one.opens)
        cursor = next_one.opens
    return found


def test_without_windows_a_change_may_run_now() -> None:
    decision = decide([], PROD, utc(2026, 12, 1, 12))
    assert decision.may_run
    assert decision.deciding is None
    assert decision.runs_at == utc(2026, 12, 1, 12)
    assert decision.reason == "no change window applies to this model"


def test_a_window_for_other_models_does_not_apply() -> None:
    decision = decide([evenings(models=("prod-apac",))], PROD, utc(2026, 12, 1, 12))
    assert decision.may_run
    assert decision.reason == "no change window applies to this model"


def test_models_match_by_any_name_ignoring_case() -> None:
    window = evenings(models=("0123456789abcdef0123456789abcdef",))
    assert window.applies_to(PROD)
    assert not window.applies_to({"dev"})


def test_inside_an_allow_window_the_change_runs_and_the_window_decides() -> None:
    at = utc(2026, 12, 1, 22, 30)  # Tue 22:30 GMT
    decision = decide([evenings()], PROD, at)
    assert decision.may_run
    assert decision.runs_at == at
    assert decision.deciding is not None
    assert decision.deciding.closes == utc(2026, 12, 2)
    assert decision.reason == "inside allow window 'evening slot' until Wed 00:00 Europe/London"


def test_outside_every_allow_window_it_waits_for_the_next_opening() -> None:
    decision = decide([evenings()], PROD, utc(2026, 12, 1, 12))  # Tue noon
    assert not decision.may_run
    assert decision.deciding is None
    assert decision.runs_at == utc(2026, 12, 1, 22)
    assert decision.reason == "outside every allow window; the next opens Tue 22:00 Europe/London"
    assert decision.runs_at_label(utc(2026, 12, 1, 12)) == "Tue 22:00 Europe/London"


def test_on_friday_night_the_next_weekday_opening_is_monday() -> None:
    decision = decide([evenings()], PROD, utc(2026, 12, 5, 1))  # Sat 01:00
    assert decision.runs_at == utc(2026, 12, 7, 22)  # Mon 22:00 GMT


def test_in_summer_the_london_evening_is_21_00_utc() -> None:
    assert decide([evenings()], PROD, utc(2026, 7, 1, 12)).runs_at == utc(2026, 7, 1, 21)


def test_deny_wins_over_an_open_allow_window_and_names_its_end() -> None:
    at = utc(2026, 12, 1, 22, 30)
    deny = freeze(datetime(2026, 12, 1, 22), datetime(2026, 12, 1, 23))
    decision = decide([evenings(), deny], PROD, at)
    assert not decision.may_run
    assert decision.deciding is not None
    assert decision.deciding.window is deny
    assert decision.reason == "deny window 'Q4 close' is open until Tue 23:00 UTC"
    assert decision.runs_at == utc(2026, 12, 1, 23)  # the allow window is still open then


def test_a_deny_that_outlasts_the_allow_window_moves_to_the_next_allow_opening() -> None:
    deny = freeze(datetime(2026, 12, 1, 21), datetime(2026, 12, 2, 1))
    decision = decide([evenings(), deny], PROD, utc(2026, 12, 1, 22, 30))
    assert decision.runs_at == utc(2026, 12, 2, 22)


def test_overlapping_deny_windows_chain_to_the_last_end() -> None:
    first = freeze(datetime(2026, 12, 24), datetime(2026, 12, 27))
    second = freeze(datetime(2026, 12, 26), datetime(2027, 1, 2))
    decision = decide([first, second], PROD, utc(2026, 12, 25))
    assert decision.runs_at == utc(2027, 1, 2)
    assert (
        decision.reason == "deny window 'Q4 close' is open until Sun 00:00 UTC"
    )  # the first; runs_at says all


def test_a_deny_window_ends_exclusively() -> None:
    deny = freeze(datetime(2026, 12, 24), datetime(2026, 12, 27))
    assert not decide([deny], PROD, utc(2026, 12, 26, 23, 59, 59)).may_run
    assert decide([deny], PROD, utc(2026, 12, 27)).may_run
    assert not decide([deny], PROD, utc(2026, 12, 24)).may_run


def test_an_allow_window_that_never_opens_again_says_so() -> None:
    allow = ChangeWindow.once(1, ["prod"], "allow", datetime(2026, 1, 1), datetime(2026, 1, 2), "UTC")
    decision = decide([allow], PROD, utc(2026, 6, 1))
    assert not decision.may_run
    assert decision.runs_at is None
    assert decision.reason == "outside every allow window, and none opens within a year"


def test_a_permanent_deny_has_no_next_run_within_the_horizon() -> None:
    deny = ChangeWindow.recurring(1, ["*"], "deny", "0 0 * * *", timedelta(days=2), "UTC")
    decision = decide([deny], PROD, utc(2026, 6, 1, 12))
    assert not decision.may_run
    assert decision.runs_at is None


def test_back_to_back_openings_count_as_one_stretch() -> None:
    office_hours = ChangeWindow.recurring(
        1, ["*"], "deny", "* 9-17 * * 1-5", timedelta(minutes=1), "Europe/London"
    )
    decision = decide([office_hours], PROD, utc(2026, 6, 1, 9))  # Mon 10:00 BST
    assert decision.runs_at == utc(2026, 6, 1, 17)  # 18:00 BST
    assert decision.reason == "deny window 'window 1' is open until Mon 18:00 Europe/London"


def test_a_deny_that_never_closes_says_so() -> None:
    always = ChangeWindow.recurring(1, ["*"], "deny", "* * * * *", timedelta(hours=2), "UTC")
    decision = decide([always], PROD, utc(2026, 6, 1))
    assert decision.runs_at is None
    assert decision.reason == "deny window 'window 1' is open beyond a year"


def test_a_window_spanning_midnight_covers_both_days() -> None:
    night = ChangeWindow.recurring(1, ["prod"], "deny", "0 23 * * *", timedelta(hours=3), "UTC")
    assert not decide([night], PROD, utc(2026, 12, 2, 1, 30)).may_run
    assert decide([night], PROD, utc(2026, 12, 2, 2)).may_run
    assert not decide([night], PROD, utc(2026, 12, 1, 23)).may_run


def test_cron_day_of_week_is_honoured_sunday_being_0_and_7() -> None:
    sundays = ChangeWindow.recurring(1, ["prod"], "allow", "0 9 * * 0", timedelta(hours=1), "UTC")
    also = ChangeWindow.recurring(2, ["prod"], "allow", "0 9 * * SUN", timedelta(hours=1), "UTC")
    seven = ChangeWindow.recurring(3, ["prod"], "allow", "0 9 * * 7", timedelta(hours=1), "UTC")
    for window in (sundays, also, seven):
        assert decide([window], PROD, utc(2026, 12, 1)).runs_at == utc(2026, 12, 6, 9)  # Sun 6 Dec


def test_a_one_off_window_in_another_zone_is_read_on_its_wall_clock() -> None:
    deny = freeze(datetime(2026, 12, 24, 9), datetime(2026, 12, 24, 17), "America/New_York", ("prod",))
    assert decide([deny], PROD, utc(2026, 12, 24, 13)).may_run  # 08:00 in New York
    decision = decide([deny], PROD, utc(2026, 12, 24, 14))
    assert not decision.may_run
    assert decision.runs_at == utc(2026, 12, 24, 22)
    assert decision.reason == "deny window 'Q4 close' is open until Thu 17:00 America/New_York"
    assert decision.runs_at_label(utc(2026, 12, 24, 14)) == "Thu 17:00 America/New_York"


def test_a_deny_window_across_the_autumn_change_lasts_its_real_hours() -> None:
    # 00:00-04:00 London on 25 Oct 2026 (clocks go back at 02:00 BST): 5 real hours.
    deny = freeze(datetime(2026, 10, 25), datetime(2026, 10, 25, 4), "Europe/London")
    assert not decide([deny], PROD, utc(2026, 10, 25, 3, 59)).may_run
    assert decide([deny], PROD, utc(2026, 10, 25, 4)).may_run


# --- daylight saving: the spring and autumn days ----------------------------------------------------


def test_london_spring_forward_a_01_30_cron_opens_at_02_00_bst() -> None:
    # 29 Mar 2026: 01:00 GMT becomes 02:00 BST, so 01:30 does not exist that day.
    window = ChangeWindow.recurring(1, ["prod"], "allow", "30 1 * * *", timedelta(hours=1), "Europe/London")
    found = openings(window, utc(2026, 3, 28, 12), utc(2026, 3, 30, 12))
    assert found == [utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)]


def test_london_fall_back_a_01_30_cron_opens_once() -> None:
    # 25 Oct 2026: 02:00 BST becomes 01:00 GMT, so 01:30 happens twice; the window opens at the first.
    window = ChangeWindow.recurring(1, ["prod"], "allow", "30 1 * * *", timedelta(hours=1), "Europe/London")
    found = openings(window, utc(2026, 10, 24, 12), utc(2026, 10, 26, 12))
    assert found == [utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)]
    # A model that asked during the second 01:30 waits for the next day.
    assert decide([window], PROD, utc(2026, 10, 25, 1, 31)).runs_at == utc(2026, 10, 26, 1, 30)


def test_new_york_spring_forward_a_02_30_cron_opens_at_03_00_edt() -> None:
    # 8 Mar 2026: 02:00 EST becomes 03:00 EDT.
    window = ChangeWindow.recurring(
        1, ["prod"], "allow", "30 2 * * *", timedelta(hours=1), "America/New_York"
    )
    found = openings(window, utc(2026, 3, 7, 12), utc(2026, 3, 9, 12))
    assert found == [utc(2026, 3, 8, 7), utc(2026, 3, 9, 6, 30)]


def test_new_york_fall_back_a_01_30_cron_opens_once() -> None:
    # 1 Nov 2026: 02:00 EDT becomes 01:00 EST.
    window = ChangeWindow.recurring(
        1, ["prod"], "deny", "30 1 * * *", timedelta(minutes=30), "America/New_York"
    )
    found = openings(window, utc(2026, 10, 31, 12), utc(2026, 11, 2, 12))
    assert found == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 2, 6, 30)]
    assert not decide([window], PROD, utc(2026, 11, 1, 5, 45)).may_run  # first 01:45, EDT
    assert decide([window], PROD, utc(2026, 11, 1, 6, 45)).may_run  # second 01:45, EST


def test_a_wildcard_hour_cron_fires_in_both_copies_of_the_repeated_hour() -> None:
    window = ChangeWindow.recurring(1, ["prod"], "allow", "0 * * * *", timedelta(minutes=5), "Europe/London")
    found = openings(window, utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))
    assert found == [utc(2026, 10, 25, 0), utc(2026, 10, 25, 1), utc(2026, 10, 25, 2)]


def test_the_duration_is_elapsed_time_across_the_change() -> None:
    window = ChangeWindow.recurring(1, ["prod"], "deny", "0 0 * * *", timedelta(hours=4), "Europe/London")
    opening = window.first_after(utc(2026, 10, 24, 12))
    assert opening is not None
    assert (opening.opens, opening.closes) == (utc(2026, 10, 24, 23), utc(2026, 10, 25, 3))
    assert opening.closes.astimezone(LONDON).hour == 3  # 03:00 GMT on the wall clock


@pytest.mark.parametrize(
    ("wall", "zone", "instant"),
    [
        (datetime(2026, 3, 29, 1, 30), LONDON, utc(2026, 3, 29, 1)),  # skipped: moves to 02:00 BST
        (datetime(2026, 10, 25, 1, 30), LONDON, utc(2026, 10, 25, 0, 30)),  # repeated: the first one
        (datetime(2026, 3, 8, 2, 30), NEW_YORK, utc(2026, 3, 8, 7)),
        (datetime(2026, 11, 1, 1, 30), NEW_YORK, utc(2026, 11, 1, 5, 30)),
        (datetime(2026, 12, 24, 9), NEW_YORK, utc(2026, 12, 24, 14)),
    ],
)
def test_local_times_resolve_like_cron_on_the_change_days(
    wall: datetime, zone: ZoneInfo, instant: datetime
) -> None:
    assert local_instant(wall, zone) == instant


def test_a_one_off_window_inside_a_skipped_hour_is_empty_and_refused() -> None:
    with pytest.raises(ValueError, match="is not after start"):
        ChangeWindow.once(
            1, ["prod"], "deny", datetime(2026, 3, 29, 1, 10), datetime(2026, 3, 29, 1, 50), "Europe/London"
        )


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide([evenings()], PROD, datetime(2026, 12, 1, 12))


# --- display ---------------------------------------------------------------------------------------


def test_overview_shows_the_current_and_next_opening_of_each_window() -> None:
    deny = freeze(datetime(2026, 12, 24), datetime(2026, 12, 27))
    states = overview([evenings(), deny, evenings(models=("dev",))], PROD, utc(2026, 12, 1, 22, 30))
    assert [s.window.label for s in states] == ["evening slot", "Q4 close"]
    slot, close = states
    assert slot.current is not None
    assert slot.current.opens == utc(2026, 12, 1, 22)
    assert slot.next is not None
    assert slot.next.opens == utc(2026, 12, 2, 22)
    assert close.current is None
    assert close.next is not None
    assert close.next.opens == utc(2026, 12, 24)
    assert slot.window.schedule == "0 22 * * 1-5 for 2h (Europe/London)"
    assert close.window.schedule == "2026-12-24 00:00 to 2026-12-27 00:00 (UTC)"


def test_labels_name_the_weekday_within_a_week_and_the_date_beyond() -> None:
    now = utc(2026, 12, 1, 12)
    assert local_label(utc(2026, 12, 1, 22), LONDON, now) == "Tue 22:00 Europe/London"
    assert local_label(utc(2026, 12, 24, 5), NEW_YORK, now) == "Thu 24 Dec 2026 00:00 America/New_York"


def test_several_targets_run_when_all_of_them_may_not_before() -> None:
    evening = ChangeWindow.recurring(1, ["emea"], "allow", "0 22 * * *", timedelta(hours=2), "Europe/London")
    freeze = ChangeWindow.once(
        2, ["apac"], "deny", datetime(2026, 12, 1, 0, 0), datetime(2026, 12, 2, 23, 0), "Europe/London"
    )
    at = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    both = decide_all((evening, freeze), [{"emea"}, {"apac"}], at)
    assert not both.may_run
    # emea could run at 22:00 on the 1st, but apac is frozen until 23:00 on the 2nd, inside emea's
    # window of the 2nd (22:00–24:00): the first instant both may change.
    assert both.runs_at == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert decide_all((evening, freeze), [{"emea"}], at).runs_at == datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    free = decide_all((evening, freeze), [{"other"}, {"more"}], at)
    assert (free.may_run, free.runs_at) == (True, at)


def test_several_targets_that_never_share_an_opening_within_a_year_have_no_start() -> None:
    emea = ChangeWindow.recurring(1, ["emea"], "allow", "0 9 * * *", timedelta(hours=1), "UTC")
    apac = ChangeWindow.recurring(2, ["apac"], "allow", "0 21 * * *", timedelta(hours=1), "UTC")
    never = decide_all((emea, apac), [{"emea"}, {"apac"}], datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert (never.may_run, never.runs_at) == (False, None)
