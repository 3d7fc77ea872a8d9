"""What each comparison-report section means, and the rules applied to its rows.

Sections and columns are those of Anaplan's documented sample report, plus the names Anaplan uses
for the same objects elsewhere (``Format``/``Formula`` of the blueprint, ``Parent``/``Top Level Item``
of General Lists). Anaplan documents neither the sections of changes and deletions nor how a change
is written; the radar reads ``X CHANGED`` and ``X DELETED`` sections with the columns of ``X ADDED``,
and a changed cell as ``before → after`` (``->`` works too). A changed row without any such cell is
only known to have changed (``review``). Anything else is unknown to the radar (``unknown``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Final

from alm_bot.radar.findings import Finding, counted
from alm_bot.radar.periods import moves_back
from alm_bot.radar.report import ReportSection
from alm_bot.radar.rules import finding

__all__ = ["SECTIONS", "SectionKind", "check_section"]

_ARROW: Final = re.compile(r"\s*(?:→|->)\s*")
_EMPTY: Final = frozenset({"", "-"})
_FORMULA_SHOWN: Final = 60


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split("|"))


_LIST = _names(
    "Name|Position|Relative To|Has Workflow|Is Numbered List|Is Organisation|Notes|Is Production Data|"
    "Has Selective Access|Use Top Level As Default Page|Parent|Top Level Item"
)
_MODULE = _names(
    "Name|Position|Relative To|Applies To|Breakback|Time Scale|Notes|Read Access Driver|"
    "Read/Write Access Driver|Time Range|Users List Option|Versions"
)
_LINE_ITEM = _names(
    "Module|Line Item|Name|Position|Relative To|Data Type|Format|Formula|Applies To|Tags|Formula Scope|"
    "Include Brought Forward|Is Breakback Enabled|Is Section Break|Is Summary Line Item|Summary|Time Scale|"
    "Notes|Read Access Driver|Read/Write Access Driver|Style|Time Range|Use Switchover|Versions"
)
_WITHIN_LIST = _names(
    "List|Items Added/Moved|Items Deleted|Items Changed|Properties Added|Properties Moved|"
    "Properties Deleted|Properties Changed"
)
_ROLE = _names("Name|Changes|Role|Object|Access")
_SUBSET = _names("List|Subset|Name")
_CALENDAR = _names(
    "Calendar Type|Fiscal Year Start|Week Start|Current Period|Past Years|Future Years|Switchover|Totals"
)

_TIME_CHANGES: Final = (
    ("Time Scale", "time scale", "data held at the old time scale"),
    ("Time Range", "time range", "data outside the new time range"),
)

Check = Callable[[dict[str, str]], Iterator[Finding]]


@dataclass(frozen=True, slots=True)
class SectionKind:
    """A section the radar knows: the summary category it counts in, its action, columns and check."""

    category: str
    action: str
    columns: frozenset[str]
    check: Check | None
    """``None``: rows of this section never matter (added objects hold no data in the target yet)."""


def _change(cell: str) -> tuple[str, str] | None:
    if "→" not in cell and "->" not in cell:
        return None
    parts = _ARROW.split(cell)
    return (parts[0], parts[1]) if len(parts) == 2 else None


def _are(n: int) -> str:
    return "is" if n == 1 else "are"


def _changes(row: dict[str, str]) -> dict[str, tuple[str, str]]:
    return {column: change for column, cell in row.items() if (change := _change(cell)) is not None}


def _line_item(row: dict[str, str]) -> tuple[str, str]:
    return row.get("Line Item") or row.get("Name", ""), row.get("Module", "")


def _module_deleted(row: dict[str, str]) -> Iterator[Finding]:
    name = row.get("Name", "")
    yield finding("module-deleted", "modules", name, f"Module {name} is deleted: its data is lost", name)


def _line_item_deleted(row: dict[str, str]) -> Iterator[Finding]:
    name, module = _line_item(row)
    reason = f"Line item {name} in {module} is deleted: its data is lost"
    yield finding("line-item-deleted", "lineItems", name, reason, module)


def _list_deleted(row: dict[str, str]) -> Iterator[Finding]:
    name = row.get("Name", "")
    reason = f"List {name} is deleted: its items and the data held against them are lost"
    yield finding("list-deleted", "lists", name, reason)


def _subset_changed(row: dict[str, str]) -> Iterator[Finding]:
    name, in_list = row.get("Subset") or row.get("Name", ""), row.get("List", "")
    reason = f"List subset {name} of {in_list} changes: modules and line items that apply to it change too"
    yield finding("subset-changed", "listSubsets", name, reason)


def _dimension_findings(
    changes: dict[str, tuple[str, str]], category: str, name: str, module: str | None, subject: str
) -> Iterator[Finding]:
    """Applies To, Time Scale, Time Range and Versions changes of a module or line item."""
    if "Applies To" in changes:
        old, new = changes["Applies To"]
        reason = f"{subject} applies to changes from {old} to {new}: data outside the new dimension is lost"
        yield finding("applies-to-changed", category, name, reason, module)
    for column, what, lost in _TIME_CHANGES:
        if column in changes:
            old, new = changes[column]
            reason = f"{subject} changes its {what} from {old} to {new}: {lost} is lost"
            yield finding("timescale-changed", category, name, reason, module)
    if "Versions" in changes:
        old, new = changes["Versions"]
        reason = f"{subject} changes its versions from {old} to {new}: data of versions it drops is lost"
        yield finding("versions-changed", category, name, reason, module)


def _not_detailed(category: str, name: str, subject: str, module: str | None = None) -> Finding:
    reason = f"{subject} is changed, and the report does not show how: check that its data survives"
    return finding("change-not-detailed", category, name, reason, module)


def _module_changed(row: dict[str, str]) -> Iterator[Finding]:
    name, changes = row.get("Name", ""), _changes(row)
    if not changes:
        yield _not_detailed("modules", name, f"Module {name}", name)
    yield from _dimension_findings(changes, "modules", name, name, name)


def _line_item_changed(row: dict[str, str]) -> Iterator[Finding]:
    (name, module), changes = _line_item(row), _changes(row)
    subject = f"Line item {name} in {module}"
    if not changes:
        yield _not_detailed("lineItems", name, subject, module)
    yield from _dimension_findings(changes, "lineItems", name, module, subject)
    if "Formula" in changes:
        old, new = changes["Formula"]
        if old in _EMPTY and new not in _EMPTY:
            shown = new if len(new) <= _FORMULA_SHOWN else new[: _FORMULA_SHOWN - 1] + "…"
            reason = f"{subject} gets a formula ({shown}): the data entered in it is lost"
            yield finding("formula-on-input", "lineItems", name, reason, module)
    for column in ("Data Type", "Format"):
        if column in changes:
            old, new = changes[column]
            reason = f"{subject} changes its {column.lower()} from {old} to {new}: its values may not survive"
            yield finding("format-changed", "lineItems", name, reason, module)


def _list_changed(row: dict[str, str]) -> Iterator[Finding]:
    name, changes = row.get("Name", ""), _changes(row)
    if not changes:
        yield _not_detailed("lists", name, f"List {name}")
    old, new = changes.get("Is Production Data", ("", ""))
    if old.lower() == "true" and new.lower() == "false":
        reason = (
            f"List {name} is turned from a production list into a structural one: "
            "its data in the target is lost"
        )
        yield finding("production-list-to-structural", "lists", name, reason)


def _within_list(row: dict[str, str]) -> Iterator[Finding]:
    name = row.get("List", "")
    counts = {column: row.get(column, "0") or "0" for column in _WITHIN_LIST - {"List"}}
    if not all(value.isdigit() for value in counts.values()):
        reason = f"CHANGES WITHIN LISTS has counts for {name} the radar cannot read"
        yield finding("report-unknown", "lists", name, reason)
        return
    if (items := int(counts["Items Deleted"])) > 0:
        what = f"{counted(items, 'item')} {_are(items)}"
        reason = f"{what} deleted from list {name}: the data held against them is lost"
        yield finding("list-items-deleted", "lists", name, reason)
    if (properties := int(counts["Properties Deleted"])) > 0:
        what = counted(properties, "property", "properties")
        reason = f"{what} {_are(properties)} deleted from list {name}: their values are lost"
        yield finding("list-properties-deleted", "lists", name, reason)
    changed = int(counts["Items Changed"]) + int(counts["Properties Changed"])
    if changed > 0:
        what = counted(changed, "item or property", "items or properties")
        reason = f"{what} of list {name} {_are(changed)} changed: check that their data survives"
        yield finding("list-items-changed", "lists", name, reason)


def _calendar_changed(row: dict[str, str]) -> Iterator[Finding]:
    changes = _changes(row)
    if not changes:
        yield _not_detailed("calendar", "Model calendar", "The model calendar")
    for setting, (old, new) in changes.items():
        if setting == "Switchover":
            if (moved := _switchover(old, new)) is not None:
                yield moved
        elif setting != "Current Period":  # the current period is production data, not structure
            reason = (
                f"The model calendar's {setting} changes from {old} to {new}: "
                "data in the periods that change is lost"
            )
            yield finding("calendar-changed", "calendar", setting, reason)


def _switchover(old: str, new: str) -> Finding | None:
    """Backwards loses data; forwards does not; a move the radar cannot order is for review."""
    backwards = moves_back(old, new)
    if backwards is None:
        reason = (
            f"The switchover moves from {old} to {new}: "
            "if that is backwards, the data entered in between is lost"
        )
        return finding("switchover-moved", "calendar", "Switchover", reason)
    if backwards:
        reason = (
            f"The switchover moves back from {old} to {new}: the data entered in the periods between is lost"
        )
        return finding("switchover-backwards", "calendar", "Switchover", reason)
    return None


def _kinds(
    category: str,
    columns: frozenset[str],
    added: Check | None,
    changed: Check | None,
    deleted: Check | None,
    *titles: str,
) -> dict[str, SectionKind]:
    return {
        title: SectionKind(category, action, columns, check)
        for title, action, check in zip(
            titles, ("created", "modified", "deleted"), (added, changed, deleted), strict=True
        )
    }


SECTIONS: Final[dict[str, SectionKind]] = {
    **_kinds(
        "lists", _LIST, None, _list_changed, _list_deleted,
        "LISTS ADDED", "LISTS CHANGED", "LISTS DELETED",
    ),
    "CHANGES WITHIN LISTS": SectionKind("lists", "modified", _WITHIN_LIST, _within_list),
    **_kinds(
        "listSubsets", _SUBSET, None, _subset_changed, _subset_changed,
        "LIST SUBSETS ADDED", "LIST SUBSETS CHANGED", "LIST SUBSETS DELETED",
    ),
    **_kinds(
        "modules", _MODULE, None, _module_changed, _module_deleted,
        "MODULES ADDED", "MODULES CHANGED", "MODULES DELETED",
    ),
    **_kinds(
        "lineItems", _LINE_ITEM, None, _line_item_changed, _line_item_deleted,
        "LINE ITEMS ADDED", "LINE ITEMS CHANGED", "LINE ITEMS DELETED",
    ),
    # Roles decide who sees what; they hold no data.
    **_kinds(
        "rolesContents", _ROLE, None, None, None,
        "ROLES ADDED", "ROLES CHANGED", "ROLES DELETED",
    ),
    "MODEL CALENDAR CHANGED": SectionKind("calendar", "modified", _CALENDAR, _calendar_changed),
}  # fmt: skip


def check_section(section: ReportSection) -> Iterator[Finding]:
    """The findings of one section: its rows through its rules, or ``unknown`` for what is not known."""
    kind = SECTIONS.get(section.title.upper())
    if kind is None:
        rows = counted(len(section.lines), "row")
        reason = f"The report has a section the radar does not know: {section.title} ({rows})"
        yield finding("report-unknown", "report", section.title, reason)
        return
    unknown = [c for c in section.columns if c not in kind.columns]
    if section.has_extra_cells:
        unknown.append("(unnamed)")
    if unknown:
        reason = (
            f"The report's {section.title} section has columns the radar does not know: {', '.join(unknown)}"
        )
        yield finding("report-unknown", "report", section.title, reason)
    if kind.check is not None:
        for row in section.rows():  # the columns it knows still count (a deletion is a deletion)
            yield from kind.check(row)
