"""Report contents, derived from the change sets of the revisions a report covers.

- the summary (reference §5.6): ``totals`` (always all three counts) and ``differences`` by
  category, leaving out categories without changes and zero counts, as Anaplan does;
- the comparison report (reference §4.10c): tab-separated text, six header lines (Source/Target
  Workspace, Model, Revision — label, name, id), then one ``=== SECTION ===`` per non-empty
  (category, action) with a header row and one row per changed object.

Both come from the same change list, so the report rows and the summary counts always agree.
"""

from __future__ import annotations

from typing import Any

from alm_bot.sandbox.changes import ACTIONS, CATEGORIES, SECTION_COLUMNS, Change
from alm_bot.sandbox.state import Report, World

__all__ = ["comparison_report_text", "report_changes", "summary_report"]


def report_changes(world: World, report: Report) -> list[Change]:
    return [change for rev_id in report.revision_ids for change in world.revisions[rev_id].changes]


def summary_report(world: World, report: Report) -> dict[str, Any]:
    changes = report_changes(world, report)
    differences: dict[str, dict[str, int]] = {}
    for category in CATEGORIES:
        counts = {
            action: sum(1 for c in changes if c.category == category.key and c.action == action and c.counted)
            for action in ACTIONS
        }
        nonzero: dict[str, int] = {action: n for action, n in counts.items() if n}
        if nonzero:
            differences[category.key] = nonzero
    totals = {
        action: sum(c.get(action, 0) for c in differences.values())
        for action in ("modified", "deleted", "created")
    }
    return {
        "targetRevisionId": report.target_revision_id,
        "sourceRevisionId": report.source_revision_id,
        "totals": totals,
        "differences": differences,
    }


def _header_lines(world: World, report: Report) -> list[str]:
    source = world.models[report.source_model_id]
    target = world.models[report.model_id]
    lines: list[str] = []
    for side, model, rev_id in (
        ("Source", source, report.source_revision_id),
        ("Target", target, report.target_revision_id),
    ):
        workspace = world.workspaces[model.workspace_id]
        lines.append(f"{side} Workspace\t{workspace.name}\t{workspace.id}")
        lines.append(f"{side} Model\t{model.name}\t{model.id}")
        lines.append(f"{side} Revision\t{world.revisions[rev_id].name}\t{rev_id}")
    return lines


def comparison_report_text(world: World, report: Report) -> str:
    changes = report_changes(world, report)
    lines = _header_lines(world, report)
    for title, rows in _sections(changes).items():
        columns = _columns(title, rows)
        lines += ["", f"=== {title} ===", "\t".join(columns)]
        lines += ["\t".join(_row(change, title, columns)) for change in rows]
    return "\n".join(lines) + "\n"


def _sections(changes: list[Change]) -> dict[str, list[Change]]:
    """The changes by report section, in category and action order (Python dicts keep it)."""
    by_section: dict[str, list[Change]] = {}
    for category in CATEGORIES:
        for action in ACTIONS:
            for change in changes:
                if change.category == category.key and change.action == action:
                    title = change.section or category.sections[action]
                    by_section.setdefault(title, []).append(change)
    for change in changes:  # outside the summary's categories (the calendar), last
        if change.section and all(change.category != c.key for c in CATEGORIES):
            by_section.setdefault(change.section, []).append(change)
    return by_section


def _base_columns(title: str, change: Change) -> tuple[str, ...]:
    if title in SECTION_COLUMNS:
        return SECTION_COLUMNS[title]
    return next(c.columns for c in CATEGORIES if c.key == change.category)


def _columns(title: str, rows: list[Change]) -> list[str]:
    columns = list(_base_columns(title, rows[0]))
    for change in rows:
        columns += [name for name, _ in change.extra if name not in columns]
    return columns


def _row(change: Change, title: str, columns: list[str]) -> list[str]:
    cells = dict(zip(_base_columns(title, change), change.cells, strict=False)) | dict(change.extra)
    return [cells.get(column, "") for column in columns]
