"""Properties of the radar: whatever it does not know, it never calls safe; no input breaks it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from radar_reports import report, summary

from alm_bot.radar import SEVERITY, assess
from alm_bot.radar.sections import SECTIONS
from alm_bot.radar.summary import KNOWN_CATEGORIES

CELL = st.text(
    st.characters(codec="ascii", categories=("L", "N", "P", "Zs"), exclude_characters="=\t"), max_size=20
)
TITLE = (
    st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ /"), min_size=1, max_size=30)
    .map(str.strip)
    .filter(lambda t: t and t.upper() not in SECTIONS)
)
COLUMNS = st.lists(CELL.filter(str.strip), min_size=1, max_size=6, unique=True)
KNOWN_SECTIONS = st.sampled_from(sorted(SECTIONS))


def rows_for(columns: list[str]) -> st.SearchStrategy[list[list[str]]]:
    return st.lists(st.lists(CELL, min_size=len(columns), max_size=len(columns)), max_size=5)


@given(title=TITLE, data=st.data())
def test_a_section_the_radar_does_not_know_is_never_safe(title: str, data: st.DataObject) -> None:
    columns = data.draw(COLUMNS)
    text = report((title, columns, data.draw(rows_for(columns))))
    assert assess(summary(), text).verdict != "safe"


@given(known=KNOWN_SECTIONS, extra=CELL.map(str.strip).filter(bool), data=st.data())
def test_a_column_the_radar_does_not_know_is_never_safe(known: str, extra: str, data: st.DataObject) -> None:
    columns = sorted(SECTIONS[known].columns)[:2]
    if extra in SECTIONS[known].columns:
        return
    text = report((known, [*columns, extra], data.draw(rows_for([*columns, extra]))))
    assert assess(None, text).verdict != "safe"


@given(
    category=st.text(st.characters(codec="ascii", categories=("L",)), min_size=1, max_size=15).filter(
        lambda c: c not in KNOWN_CATEGORIES
    ),
    created=st.integers(0, 5),
    modified=st.integers(0, 5),
    deleted=st.integers(0, 5),
)
def test_a_summary_category_the_radar_does_not_know_is_never_safe(
    category: str, created: int, modified: int, deleted: int
) -> None:
    plan = summary(**{category: {"created": created, "modified": modified, "deleted": deleted}})
    assert assess(plan).verdict != "safe"


@given(st.text(max_size=400))
def test_any_text_gets_a_verdict_and_never_an_error(text: str) -> None:
    risk = assess(summary(), text)
    assert risk.verdict in SEVERITY
    assert all(SEVERITY[f.verdict] <= SEVERITY[risk.verdict] for f in risk.findings)


@given(st.binary(max_size=400))
def test_any_bytes_get_a_verdict_and_never_an_error(body: bytes) -> None:
    assert assess(None, body).verdict in SEVERITY
