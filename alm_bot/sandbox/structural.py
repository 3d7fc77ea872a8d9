"""``POST /_sandbox/models/{modelId}/structural-change`` with a body: one named change, as a test asks.

Without a body the sandbox makes its next synthetic change (``changes.synthetic_change``). With one,
it records exactly the change described; the next revision carries it into the comparison summary
(counts) and the full report (a row), like every other change::

    {"category": "line_items", "action": "deleted", "name": "Revenue Input", "module": "REV01 Inputs"}
    {"category": "modules", "action": "modified", "name": "Headcount",
     "changes": {"Applies To": ["E1 Region", "E2 Country"]}}
    {"category": "line_items", "action": "modified", "name": "Opex", "module": "OPX01 Opex",
     "changes": {"Formula": ["", "HC01 Headcount.Cost"], "Time Scale": ["Month", "Quarter"]}}
    {"category": "lists", "action": "modified", "name": "Regions",
     "changes": {"Is Production Data": ["true", "false"]}}
    {"category": "lists", "action": "modified", "name": "Regions", "counts": {"Items Deleted": 3}}
    {"category": "calendar", "action": "modified", "changes": {"Switchover": ["Mar 26", "Jan 26"]}}

``changes`` writes ``before → after`` under each named column (a column Anaplan's sample does not
show is written all the same: that is how a test shows the radar an unknown column). ``counts`` fills
CHANGES WITHIN LISTS. A calendar change has no summary category, so only the report shows it.
"""

from __future__ import annotations

from typing import Any, Final

from alm_bot.sandbox.changes import ACTIONS, WITHIN_LIST_COLUMNS, Change
from alm_bot.sandbox.errors import ControlError

__all__ = ["change_from_body"]

_CATEGORIES: Final = {
    "line_items": "lineItems",
    "modules": "modules",
    "lists": "lists",
    "list_subsets": "listSubsets",
    "roles": "rolesContents",
    "calendar": "calendar",
}


def change_from_body(body: dict[str, Any]) -> Change:
    """The change a body describes; `ControlError` 400 for anything it cannot be."""
    category = _CATEGORIES.get(str(body.get("category")))
    if category is None:
        raise ControlError(400, f"'category' must be one of {', '.join(_CATEGORIES)}.")
    action = body.get("action")
    if action not in ACTIONS:
        raise ControlError(400, f"'action' must be one of {', '.join(ACTIONS)}.")
    changes = _changes(body.get("changes"))
    if category == "calendar":
        if action != "modified" or not changes:
            raise ControlError(400, "A calendar change is 'modified' with 'changes'.")
        return Change("calendar", "modified", (), changes, "MODEL CALENDAR CHANGED", counted=False)
    name = _text(body, "name", required=True)
    if category == "lists" and action == "modified" and "counts" in body:
        return Change(category, action, _within_list(name, body["counts"]))
    section = "LISTS CHANGED" if category == "lists" and action == "modified" else None
    return Change(category, action, _cells(category, name, body), changes, section)


def _cells(category: str, name: str, body: dict[str, Any]) -> tuple[str, ...]:
    """The row in the category's own columns (``changes.CATEGORIES``); cells it does not name are empty."""
    match category:
        case "lineItems":
            return (_text(body, "module", required=True), name, "", "")
        case "listSubsets":
            return (_text(body, "list", required=True), name)
        case "rolesContents":
            return (name, _text(body, "object"), _text(body, "access"))
        case _:
            return (name,)


def _changes(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    ok = isinstance(value, dict) and all(
        isinstance(k, str)
        and k
        and isinstance(v, list)
        and len(v) == 2
        and all(isinstance(x, str) for x in v)
        for k, v in value.items()
    )
    if not ok:
        raise ControlError(400, "'changes' maps report columns to [before, after] strings.")
    return tuple((column, f"{old} → {new}".strip()) for column, (old, new) in value.items())


def _within_list(name: str, counts: Any) -> tuple[str, ...]:
    columns = WITHIN_LIST_COLUMNS[1:]
    if not isinstance(counts, dict) or not all(
        k in columns and isinstance(v, int) and not isinstance(v, bool) and v >= 0 for k, v in counts.items()
    ):
        raise ControlError(400, f"'counts' maps {', '.join(columns)} to whole numbers.")
    return (name, *(str(counts.get(column, 0)) for column in columns))


def _text(body: dict[str, Any], key: str, *, required: bool = False) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise ControlError(400, f"'{key}' must be {'a non-empty' if required else 'a'} string.")
    return value
