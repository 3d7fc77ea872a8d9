"""Delivery figures on a seeded history of built records (alm_bot.stats is pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alm_bot.errors import InvalidArgument
from alm_bot.slack.stats import stats_message
from alm_bot.stats import Delivery, delivery_figures, format_duration, parse_period
from alm_bot.stats_cli import report_json, report_text
from tests.core.store_builders import new_request

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
UNTIL = T0 + timedelta(weeks=4)
PROD, TEST = "P" * 32, "T" * 32
HOUR = timedelta(hours=1)


def sync(
    n: int, ended: timedelta, *, ok: bool = True, model: str = PROD, lead: timedelta = HOUR, ran: bool = True
) -> Delivery:
    end = T0 + ended
    name = "FP&A PROD" if model == PROD else "FP&A TEST"
    return Delivery(f"R{n:06d}", model, name, end - lead, end, ok, ran)


HISTORY = [
    sync(1, timedelta(days=1), lead=2 * HOUR),
    sync(2, timedelta(days=3), ok=False),  # prod breaks …
    sync(3, timedelta(days=3, hours=5), ok=False),  # … stays broken …
    sync(4, timedelta(days=4), lead=4 * HOUR),  # … and is restored a day after the first failure
    sync(5, timedelta(days=10), lead=6 * HOUR),
    sync(6, timedelta(days=11), ok=False, ran=False),  # failed in planning: not a deployment
    sync(7, timedelta(days=2), model=TEST, lead=timedelta(minutes=10)),
    sync(8, timedelta(days=20), model=TEST, ok=False),  # test is still failing at the end
    sync(9, -timedelta(days=1)),  # before the period
]


def test_figures_per_model_over_four_weeks() -> None:
    report = delivery_figures(HISTORY, since=T0, until=UNTIL)

    prod, test = report.models  # busiest first
    assert (prod.model_name, prod.deployments, prod.succeeded, prod.failed) == ("FP&A PROD", 5, 3, 2)
    assert prod.deployments_per_week == pytest.approx(3 / 4)
    assert prod.lead_time_seconds == 4 * 3600  # median of 2 h, 4 h, 6 h
    assert prod.change_failure_rate == pytest.approx(2 / 5)
    assert prod.time_to_restore_seconds == 24 * 3600
    assert (prod.restored, prod.not_restored) == (1, 0)
    assert (test.deployments, test.change_failure_rate, test.lead_time_seconds) == (2, 0.5, 600)
    assert (test.time_to_restore_seconds, test.restored, test.not_restored) == (None, 0, 1)


def test_one_model_and_an_empty_period() -> None:
    only_test = delivery_figures(HISTORY, since=T0, until=UNTIL, model_id=TEST)
    assert [m.model_id for m in only_test.models] == [TEST]
    assert delivery_figures(HISTORY, since=UNTIL, until=UNTIL + HOUR).models == ()


def test_a_stored_request_becomes_a_delivery_only_when_it_is_a_sync_that_ended() -> None:
    done = new_request(
        state="succeeded",
        anaplan_task_id="T1",
        plan={"target_model_name": "FP&A PROD"},
        updated_at=datetime(2025, 3, 1, 11, 0, tzinfo=UTC),
    )
    delivery = Delivery.of(done)
    assert delivery is not None
    assert (delivery.model_name, delivery.succeeded, delivery.ran) == ("FP&A PROD", True, True)
    assert delivery.ended_at - delivery.requested_at == 2 * HOUR
    assert Delivery.of(new_request(state="pending")) is None
    assert Delivery.of(new_request(operation="change_status", state="succeeded")) is None


@pytest.mark.parametrize(
    ("text", "span"), [("90d", timedelta(days=90)), ("12w", timedelta(weeks=12)), ("48H", 48 * HOUR)]
)
def test_periods(text: str, span: timedelta) -> None:
    assert parse_period(text) == span


@pytest.mark.parametrize("text", ["", "90", "0d", "3 months", "-1d"])
def test_a_period_that_is_not_one_is_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidArgument, match=r"use e\.g\. 90d, 12w or 48h"):
        parse_period(text)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(None, "-"), (12, "12s"), (250, "4m 10s"), (3900, "1h 05m"), (2 * 86400 + 3 * 3600 + 59, "2d 3h")],
)
def test_durations_read_at_a_glance(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_front_ends_word_the_same_figures() -> None:
    report = delivery_figures(HISTORY, since=T0, until=UNTIL)

    text = report_text(report)
    assert "FP&A PROD (" + PROD + ")" in text
    assert "change failure rate   40% (2 of 5)" in text
    assert "time to restore       1d 0h (1 restored)" in text
    assert "(0 restored, 1 still failing)" in text
    assert report_json(report)["models"][0]["time_to_restore_seconds"] == 24 * 3600

    slack = stats_message(report, None)
    assert slack.text == "Delivery figures, last 28 days"
    shown = "\n".join(str(block.to_dict()) for block in slack.blocks)
    assert "*FP&amp;A PROD*" in shown
    assert "0.8 deployments/week (3 syncs succeeded)" in shown
    assert stats_message(delivery_figures([], since=T0, until=UNTIL), "prod").text == (
        "No syncs ran into prod in the last 28 days."
    )
