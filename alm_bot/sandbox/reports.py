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

from alm_bot.sandbox.changes import ACTIONS, CATEGORIES, Change
from alm_bot.sandbox.state import Report, World

__all__ = ["comparison_report_text", "report_changes", "summary_report"]


def report_changes(world: World, report: Report) -> list[Change]:
    return [change for rev_id in report.revision_ids for change in world.revisions[rev_id].changes]


def summary_report(world: World, report: Report) -> dict[str, Any]:
    changes = report_changes(world, report)
    differences: dict[str, dict[str, int]] = {}
    for category in CATEGORIES:
        counts = {
            action: sum(1 for c in changes if c.category == category.key and c.action == action)
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
    for category in CATEGORIES:
        for action in ACTIONS:
            rows = [c.cells for c in changes if c.category == category.key and c.action == action]
            if not rows:
                continue
            lines += ["", f"=== {category.sections[action]} ===", "\t".join(category.columns)]
            lines += ["\t".join(cells) for cells in rows]
    return "\n".join(lines) + "\n"
