"""A release on Slack: its targets on the one card, a thread line per finished target, the blocked reply.

A release is a sync request with several targets; its card (`alm_bot.slack.cards.approval_card`)
shows one line per target — name, the revision it is at, the change counts, where it stands — drawn
from the request and its target runs as stored now. A plain sync has one target and keeps its
card exactly as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from alm_bot.anaplan.models import SummaryReport
from alm_bot.records import SyncPlan, SyncTarget
from alm_bot.slack.buttons import button_value
from alm_bot.slack.formatting import clip, code, escape
from alm_bot.slack.message import Message, context, section
from alm_bot.store import ApprovalRequest, TargetRun

__all__ = [
    "CANCEL_BLOCKED",
    "DROP_BLOCKED",
    "blocked_reply",
    "release_targets",
    "target_finished_reply",
    "target_line",
]

DROP_BLOCKED: Final = "alm_release_drop_blocked"
CANCEL_BLOCKED: Final = "alm_release_cancel"
_RUN_STATES: Final = {
    "waiting": "⏳ waiting",
    "starting": "🔄 starting",
    "running": "🔄 syncing",
    "succeeded": "✅ synced",
    "failed": "❌ failed",
    "skipped": "⏭️ not started (stopped after a failure)",
    "dropped": "➖ dropped",
}


def release_targets(request: ApprovalRequest, runs: Sequence[TargetRun]) -> list[Block]:
    """The card's target section: one line per target, wave by wave."""
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    by_position = {r.position: r for r in runs}
    lines = [
        target_line(target, by_position.get(position), waves=len({t.wave for t in plan.targets}) > 1)
        for position, target in enumerate(plan.targets)
    ]
    stop = "a failed target stops the later waves" if plan.on_failure == "stop" else "later waves run anyway"
    group = f"release {code(plan.release)} · " if plan.release else ""
    return [
        section(clip(f"*Targets* ({len(plan.targets)})\n" + "\n".join(lines), 3000)),
        context(f"{group}one approval covers every target · {stop}"),
    ]


def target_line(target: SyncTarget, run: TargetRun | None, *, waves: bool = True) -> str:
    name = escape(target.model.name or target.model.id)
    alias = f" {code(target.model.alias)}" if target.model.alias else ""
    wave = f"wave {target.wave + 1} · " if waves else ""
    at = f"at {escape(target.revision.name or '?')}"
    state = _RUN_STATES.get(run.state, escape(run.state)) if run is not None else "⏳ waiting"
    if run is not None and run.state == "waiting" and run.blocked_reason:
        state = f"⛔ blocked: {escape(clip(run.blocked_reason, 300))}"
    elif run is not None and run.state == "failed" and run.result is not None:
        state += f": {escape(clip(run.result.message or run.result.title or '', 300))}"
    return f"• {wave}*{name}*{alias} · {at} · {_counts(target)} · {state}"


def _counts(target: SyncTarget) -> str:
    summary: SummaryReport | None = target.summary
    if summary is not None:
        totals = summary.totals
        parts = [
            f"{getattr(totals, k)} {k}" for k in ("created", "modified", "deleted") if getattr(totals, k)
        ]
        return ", ".join(parts) or "no changes"
    if target.summary_error:
        return "no summary"
    return "computing…" if target.summary_task_id else "no summary"


def target_finished_reply(request: ApprovalRequest, runs: Sequence[TargetRun], position: int) -> Message:
    """The card's thread: one target of the release ended."""
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    run = next((r for r in runs if r.position == position), None)
    target = plan.targets[position]
    line = target_line(target, run, waves=len({t.wave for t in plan.targets}) > 1)
    name = target.model.name or target.model.id
    return Message(f"{name}: {run.state if run else 'unknown'}", (section(line),))


def blocked_reply(request: ApprovalRequest, runs: Sequence[TargetRun]) -> Message:
    """Preflight blocked targets: which and why, with Drop blocked targets / Cancel buttons."""
    plan = request.plan
    assert isinstance(plan, SyncPlan)
    blocked = [r for r in runs if r.state == "waiting" and r.blocked_reason]
    lines = [
        f"• *{escape(plan.targets[r.position].model.name)}*: {escape(r.blocked_reason or '')}"
        for r in blocked
    ]
    text = (
        f"⛔ Request *{request.id}*: {len(blocked)} of {len(plan.targets)} targets cannot take "
        f"*{escape(plan.source_revision.name)}*. Nobody has been asked yet.\n" + "\n".join(lines)
    )
    value = button_value(request.id)
    buttons = ActionsBlock(
        block_id="release_blocked",
        elements=[
            ButtonElement(text="Drop blocked targets", action_id=DROP_BLOCKED, value=value, style="primary"),
            ButtonElement(text="Cancel request", action_id=CANCEL_BLOCKED, value=value, style="danger"),
        ],
    )
    return Message(
        f"Request {request.id}: {len(blocked)} targets blocked.", (section(clip(text, 3000)), buttons)
    )
