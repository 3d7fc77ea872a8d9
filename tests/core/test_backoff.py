"""The one backoff schedule: waits grow by a factor up to a cap, jitter only ever shortens them."""

from __future__ import annotations

import pytest

from alm_bot.backoff import Backoff


def test_waits_grow_by_the_factor_until_the_cap() -> None:
    schedule = Backoff(0.5, 2.0, 3.0)
    assert [schedule.delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert schedule.delay(0) == 0.5


def test_the_wait_after_a_wait_grows_from_at_least_the_first() -> None:
    schedule = Backoff(1.0, 1.5, 15.0)
    assert schedule.after(0.0) == 1.0
    assert schedule.after(2.0) == 3.0
    assert schedule.after(14.0) == 15.0


def test_jitter_shortens_a_wait_by_at_most_its_share() -> None:
    schedule = Backoff(1.0, 2.0, 30.0, jitter=0.5)
    waits = [schedule.delay(4) for _ in range(200)]
    assert all(4.0 <= w <= 8.0 for w in waits)
    assert len(set(waits)) > 1


@pytest.mark.parametrize(
    "arguments", [(0.0, 2.0, 1.0), (1.0, 0.5, 2.0), (2.0, 2.0, 1.0), (1.0, 2.0, 2.0, 1.5)]
)
def test_a_schedule_that_would_shrink_or_stand_still_is_refused(arguments: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="Backoff"):
        Backoff(*arguments)
