"""``alm-bot requests release SOURCE TARGET… --as WHO`` and ``alm-bot requests drop ID [TARGET…]``.

A release asked from the CLI (or a pipeline) takes the same path as from Slack or MCP: preflight per
target, one approval, waves. The output (``--json`` too) lists each target with where it stands; a
blocked release says which targets and why, and ``requests drop ID`` goes on without them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alm_bot.actor import Actor
from alm_bot.operations import Operations
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.release_requests import release_spec
from alm_bot.store import ApprovalRequest, TargetRun

__all__ = ["drop_targets", "request_release", "targets_table", "targets_view"]


async def request_release(
    ops: Operations, source: str, targets: Sequence[str], revision: str | None, actor: Actor
) -> tuple[RequestOutcome, list[dict[str, Any]]]:
    spec = release_spec(ops.settings, source, targets, revision)
    outcome = await ops.releases.request_release(spec, actor=actor)
    return outcome, targets_view(outcome.request, await ops.get_runs(outcome.request.id))


async def drop_targets(
    ops: Operations, request_id: str, targets: Sequence[str], actor: Actor
) -> tuple[RequestOutcome, list[dict[str, Any]]]:
    """Drop the named targets, or — none named — the blocked ones."""
    runs = await ops.get_runs(request_id)
    dropped = list(targets) or [r.target_model_id for r in runs if r.state == "waiting" and r.blocked_reason]
    outcome = await ops.releases.drop_targets(request_id, dropped, actor=actor)
    return outcome, targets_view(outcome.request, await ops.get_runs(outcome.request.id))


def targets_view(request: ApprovalRequest, runs: Sequence[TargetRun]) -> list[dict[str, Any]]:
    """Each target of a sync request as plain JSON-ready data."""
    plan = request.plan
    if plan.operation != "sync":
        return []
    by_position = {r.position: r for r in runs}
    rows = []
    for position, target in enumerate(plan.targets):
        run = by_position.get(position)
        rows.append(
            {
                "position": position,
                "wave": target.wave + 1,
                "target": target.model.alias or target.model.name,
                "target_model_id": target.model.id,
                "current_revision": target.revision.name or None,
                "state": run.state if run else "waiting",
                "blocked_reason": run.blocked_reason if run and run.state == "waiting" else None,
                "anaplan_task_id": run.anaplan_task_id if run else None,
                "message": run.result.message if run and run.result and not run.result.successful else None,
            }
        )
    return rows


def targets_table(rows: Sequence[dict[str, Any]]) -> str:
    """One line per target, for the readable output."""
    lines = []
    for row in rows:
        why = row["blocked_reason"] or row["message"]
        reason = f" — {why}" if why else ""
        lines.append(
            f"  wave {row['wave']}  {row['target']}  at {row['current_revision']}  {row['state']}{reason}"
        )
    return "\n".join(lines)
