"""`[[windows]]` in the TOML file: parsed into change windows, every mistake one clear problem line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from alm_bot.config import load_settings
from alm_bot.errors import ConfigError
from alm_bot.windows import Once, Recurring

MODELS = """
[models.prod-emea]
id = "0123456789ABCDEF0123456789ABCDEF"
[models.prod-apac]
id = "FEDCBA9876543210FEDCBA9876543210"
"""


def problems_of(tmp_path: Path, windows: str) -> list[str]:
    path = tmp_path / "alm-bot.toml"
    path.write_text(MODELS + windows, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(env={}, config_file=path)
    return [p.removeprefix(f"{path}: ") for p in caught.value.problems]


def test_cron_and_start_windows_are_read_and_numbered_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "alm-bot.toml"
    path.write_text(
        MODELS
        + """
[[windows]]
models = ["prod-emea"]
kind = "allow"
cron = "0 22 * * 1-5"
duration = "2h"
timezone = "Europe/London"
reason = "evening slot"

[[windows]]
models = ["*"]
kind = "deny"
start = 2026-12-24T00:00:00
end = "2026-12-27T00:00"
""",
        encoding="utf-8",
    )
    first, second = load_settings(env={}, config_file=path).change_windows
    assert (first.number, first.kind, first.zone.key, first.label) == (
        1,
        "allow",
        "Europe/London",
        "evening slot",
    )
    assert first.timing == Recurring("0 22 * * 1-5", timedelta(hours=2))
    assert first.applies_to({"prod-emea"})
    assert not first.applies_to({"prod-apac"})
    assert (second.number, second.zone.key, second.label) == (2, "UTC", "window 2")
    assert second.timing == Once(datetime(2026, 12, 24, tzinfo=UTC), datetime(2026, 12, 27, tzinfo=UTC))
    assert second.applies_to({"anything"})


def test_no_windows_is_no_windows(tmp_path: Path) -> None:
    path = tmp_path / "alm-bot.toml"
    path.write_text(MODELS, encoding="utf-8")
    assert load_settings(env={}, config_file=path).change_windows == ()


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        (
            'cron = "0 25 * * *"\nduration = "1h"',
            "windows[0].cron: '0 25 * * *' is not a cron expression: bad hour",
        ),
        (
            'cron = "0 22 * *"\nduration = "1h"',
            "windows[0].cron: '0 22 * *' is not a cron expression: it needs five fields, minute hour "
            'day-of-month month day-of-week (like "0 22 * * 1-5")',
        ),
        (
            'cron = "0 22 * * *"\nduration = "1h"\ntimezone = "Europe/Londn"',
            "windows[0].timezone: 'Europe/Londn' is not an IANA time zone (like Europe/London or UTC)",
        ),
        (
            'start = "2026-12-24T00:00"\nend = "2026-12-23T00:00"',
            "windows[0]: end (2026-12-23T00:00) is not after start (2026-12-24T00:00)",
        ),
        ('cron = "0 22 * * *"\nduration = "0s"', "windows[0].duration: '0s' must be longer than zero"),
        ("", "windows[0]: give either cron (with duration) or start (with end), not both or neither"),
        (
            'cron = "0 22 * * *"\nduration = "1h"\nstart = "2026-12-24T00:00"\nend = "2026-12-25T00:00"',
            "windows[0]: give either cron (with duration) or start (with end), not both or neither",
        ),
        (
            'cron = "0 22 * * *"',
            'windows[0]: a cron window needs a duration (like duration = "2h") and no end',
        ),
        (
            'start = "2026-12-24T00:00"',
            'windows[0]: a start window needs an end (like end = "2026-12-27T00:00") and no duration',
        ),
        (
            'start = 2026-12-24T00:00:00Z\nend = "2026-12-27T00:00"',
            "windows[0].start: must be a local time without an offset, like 2026-12-24T00:00: "
            "set the zone in timezone",
        ),
        (
            'kind = "maybe"\ncron = "0 22 * * *"\nduration = "1h"',
            "windows[0].kind: Input should be 'deny' or 'allow'",
        ),
    ],
    ids=[
        "bad-cron",
        "four-fields",
        "unknown-zone",
        "end-before-start",
        "zero-duration",
        "neither",
        "both",
        "cron-without-duration",
        "start-without-end",
        "offset",
        "kind",
    ],
)
def test_each_mistake_in_a_window_is_one_problem_line(tmp_path: Path, entry: str, problem: str) -> None:
    kind = "" if "kind =" in entry else 'kind = "deny"\n'
    assert problems_of(tmp_path, f'[[windows]]\nmodels = ["prod-emea"]\n{kind}{entry}\n') == [problem]


def test_an_unknown_alias_is_named_with_the_closest_known_one(tmp_path: Path) -> None:
    windows = """
[[windows]]
models = ["prod-emae", "*"]
kind = "deny"
cron = "0 22 * * *"
duration = "1h"

[[windows]]
models = ["qa"]
kind = "allow"
cron = "0 22 * * *"
duration = "1h"
"""
    assert problems_of(tmp_path, windows) == [
        "windows: window 1 names 'prod-emae', which is not a [models.*] alias (did you mean 'prod-emea'?); "
        "window 2 names 'qa', which is not a [models.*] alias (or \"*\" for every model)"
    ]


def test_a_window_without_models_is_refused(tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path, '[[windows]]\nmodels = []\nkind = "deny"\ncron = "0 1 * * *"\nduration = "1h"\n'
    )
    assert problems == ["windows[0].models: Tuple should have at least 1 item after validation, not 0"]
