"""Synthetic structural changes: what a revision "contains", so reports have something to list.

Every revision carries a change set (modules, line items, lists, roles, list subsets — created,
modified or deleted, each with item names). Summary counts and the comparison report's sections are
derived from the change sets of the revisions between the target's and the source's revision, so
the two reports always agree with each other. The category keys are those of the summary report's
``differences`` (reference §5.6); ``listSubsets`` is the sandbox's name for the "list subsets"
category that APIARY mentions without naming its key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "ACTIONS",
    "CATEGORIES",
    "SECTION_COLUMNS",
    "WITHIN_LIST_COLUMNS",
    "Action",
    "Category",
    "Change",
    "synthetic_change",
]

Action = Literal["created", "modified", "deleted"]
ACTIONS: Final[tuple[Action, ...]] = ("created", "modified", "deleted")


@dataclass(frozen=True, slots=True)
class Category:
    """One kind of model object: its summary key, its report columns and section titles."""

    key: str
    columns: tuple[str, ...]
    sections: dict[str, str]


CATEGORIES: Final[tuple[Category, ...]] = (
    Category(
        "lists",
        ("Name", "Parent", "Top Level Item"),
        {"created": "LISTS ADDED", "modified": "CHANGES WITHIN LISTS", "deleted": "LISTS DELETED"},
    ),
    Category(
        "listSubsets",
        ("List", "Subset"),
        {
            "created": "LIST SUBSETS ADDED",
            "modified": "LIST SUBSETS CHANGED",
            "deleted": "LIST SUBSETS DELETED",
        },
    ),
    Category(
        "modules",
        ("Name", "Applies To"),
        {"created": "MODULES ADDED", "modified": "MODULES CHANGED", "deleted": "MODULES DELETED"},
    ),
    Category(
        "lineItems",
        ("Module", "Name", "Format", "Formula"),
        {
            "created": "LINE ITEMS ADDED",
            "modified": "LINE ITEMS CHANGED",
            "deleted": "LINE ITEMS DELETED",
        },
    ),
    Category(
        "rolesContents",
        ("Role", "Object", "Access"),
        {"created": "ROLES ADDED", "modified": "ROLES CHANGED", "deleted": "ROLES DELETED"},
    ),
)


WITHIN_LIST_COLUMNS: Final = (
    "List",
    "Items Added/Moved",
    "Items Deleted",
    "Items Changed",
    "Properties Added",
    "Properties Moved",
    "Properties Deleted",
    "Properties Changed",
)
"""The columns of CHANGES WITHIN LISTS in Anaplan's documented sample report (a list's modified rows)."""
SECTION_COLUMNS: Final = {"CHANGES WITHIN LISTS": WITHIN_LIST_COLUMNS, "MODEL CALENDAR CHANGED": ()}
"""Sections whose columns are not their category's."""


@dataclass(frozen=True, slots=True)
class Change:
    """One changed model object. ``cells`` is its report row, in its section's column order;
    ``extra`` adds cells under further columns (``("Applies To", "E1 Region → E2 Country")``).
    ``section`` overrides the category's section for the action (a list's own properties changed:
    ``LISTS CHANGED``); a change outside the summary's categories (the calendar) is not ``counted``."""

    category: str
    action: Action
    cells: tuple[str, ...]
    extra: tuple[tuple[str, str], ...] = ()
    section: str | None = None
    counted: bool = True


def synthetic_change(n: int) -> Change:
    """The n-th structural change made through the sandbox (1-based); cycles through categories."""
    templates = (
        Change("lineItems", "created", ("SYS01 Sandbox", f"Sandbox Line Item {n}", "Number", "0")),
        Change("modules", "created", (f"SYS{n:02d} Sandbox Module {n}", "Time, Products")),
        Change("lists", "created", (f"Sandbox List {n}", "", f"All Sandbox List {n}")),
        Change("rolesContents", "modified", ("Planner", f"SYS{n:02d} Sandbox Module {n}", "Write")),
    )
    return templates[(n - 1) % len(templates)]
