"""The approval card: what will change, who asked, and — while it is pending — Approve / Reject.

The card is always drawn from the request as stored *now* (`ApprovalRequest`), so a late or
repeated update shows the truth. It is posted once (``approval_needed``) and redrawn on every
``request_updated`` / ``request_expired`` / ``request_cancelled``: the change summary replaces
"computing…", the buttons give way to who decided and when, an expired card says EXPIRED.

The wording helpers (`request_title`, `state_line`) are shared with lists, DMs and the Home tab, so
a request reads the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Final
from zoneinfo import ZoneInfo

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from alm_bot.actor import break_glass_by
from alm_bot.anaplan.models import SummaryCounts, SummaryReport
from alm_bot.anaplan.verdict import reason_text
from alm_bot.approval_policy import ApprovalProgress
from alm_bot.records import SyncPlan, SyncTarget, TaskOutcome
from alm_bot.slack.approval_view import progress_blocks, shows_progress, waiting_line
from alm_bot.slack.buttons import APPROVE, OVERRIDE, REJECT, button_value
from alm_bot.slack.formatting import clip, code, escape, person, when
from alm_bot.slack.message import Message, context, section
from alm_bot.slack.release_cards import release_targets
from alm_bot.slack.risk_card import BLOCKED_LINE, overridden_line, risk_text
from alm_bot.store import ApprovalRequest, TargetRun
from alm_bot.windows import WindowDecision, local_label

__all__ = [
    "approval_card",
    "change_summary",
    "model_label",
    "origin_note",
    "request_title",
    "runs_at_label",
    "state_line",
]

_ORIGIN_NOTES: Final = {"mcp": " (via assistant)", "cli": " (via CLI)"}
_CATEGORY_NAMES: Final = {
    "lists": "Lists",
    "listSubsets": "List subsets",
    "modules": "Modules",
    "lineItems": "Line items",
    "rolesContents": "Roles",
    "actions": "Actions",
    "processes": "Processes",
}
_STATE_ICONS: Final = {
    "requested": "⏳",
    "pending": "🕓",
    "approved": "✅",
    "scheduled": "🗓️",
    "executing": "🔄",
    "succeeded": "✅",
    "failed": "❌",
    "rejected": "🚫",
    "expired": "⌛",
    "cancelled": "↩️",
}


def origin_note(origin: str) -> str:
    """`` (via assistant)`` for requests an AI assistant made, `` (via CLI)`` for the CLI."""
    return _ORIGIN_NOTES.get(origin, "")


def model_label(name: str | None, alias: str | None, model_id: str | None = None) -> str:
    """``FP&A PROD `prod` `` in mrkdwn: the name people know and the alias they type."""
    label = escape(name or model_id or "unknown model")
    return f"{label} {code(alias)}" if alias else label


def request_title(request: ApprovalRequest) -> str:
    """Plain text: ``Sync FP&A DEV → FP&A PROD`` or ``Take FP&A PROD offline``."""
    plan = request.plan
    if isinstance(plan, SyncPlan):
        source = plan.source.name or plan.source.id or "?"
        if plan.is_release:
            return f"Release {source} → {len(plan.targets)} targets"
        target = plan.target.model.name or request.target_model_id
        return f"Sync {source} → {target}"
    return f"Take {plan.model.name or request.target_model_id} {plan.status}"


def _break_glass_note(request: ApprovalRequest) -> str:
    ran = break_glass_by(request.decided_by_name)
    return f" · ⚠️ break-glass (CLI, run by {escape(ran)})" if ran else ""


def _override_note(request: ApprovalRequest) -> str:
    hold = request.window
    if hold is None or hold.overridden_by_id is None:
        return ""
    return f" · ⚠️ change window overridden by {person(hold.overridden_by_id, hold.overridden_by_name)}"


def runs_at_label(request: ApprovalRequest) -> str:
    """``Tue 22:00 Europe/London``: when a scheduled request starts, on its window's wall clock."""
    if request.runs_at is None:
        return "when its change window opens"
    zone = ZoneInfo(request.window.zone if request.window else "UTC")
    return local_label(request.runs_at, zone, request.decided_at or request.created_at)


def state_line(request: ApprovalRequest) -> str:
    """Where the request stands, in mrkdwn: ``✅ Approved by @grace at … · syncing``."""
    icon = _STATE_ICONS.get(request.state, "•")
    decider = person(request.decided_by_id, request.decided_by_name)
    at = f" at {when(request.decided_at)}" if request.decided_at else ""
    approved = f"Approved by {decider}{at}{_break_glass_note(request)}{_override_note(request)}"
    result = request.result
    match request.state:
        case "requested":
            return f"{icon} Preparing the request…"
        case "pending":
            expiry = f" · expires {when(request.expires_at)}" if request.expires_at else ""
            return f"{icon} Waiting for an approver{expiry}"
        case "approved":
            return f"{icon} {approved} · starting"
        case "scheduled":
            waits = approved if request.decided_by_id else "Waiting for its change window"
            return f"{icon} {waits} — runs at {escape(runs_at_label(request))}"
        case "executing":
            doing = "syncing" if request.operation == "sync" else "changing the status"
            return f"{icon} {approved} · {doing}"
        case "succeeded":
            done = escape((result.message if result else None) or _sync_done(request))
            by = f"{approved} · " if request.decided_by_id else ""
            return f"{icon} {by}Succeeded: {done}"
        case "failed":
            by = f"{approved} · " if request.decided_by_id else ""
            return f"{icon} {by}Failed: {_failure(result)}"
        case "rejected":
            reason = f"\n> {escape(clip(request.reason, 500))}" if request.reason else ""
            return f"{icon} Rejected by {decider}{at}{_break_glass_note(request)}{reason}"
        case "expired":
            expired_at = f" at {when(request.expires_at)}" if request.expires_at else ""
            return f"{icon} *EXPIRED*{expired_at} — nobody decided in time. Nothing was changed."
        case "cancelled":
            return f"{icon} Cancelled by {decider}{at} — nothing was changed."
    return f"{icon} {escape(request.state)}"


_NOT_APPROVED: Final = frozenset({"requested", "pending", "rejected", "expired", "cancelled"})


def approval_card(
    request: ApprovalRequest,
    progress: ApprovalProgress | None = None,
    runs: Sequence[TargetRun] = (),
    *,
    blocked: bool = False,
    window: WindowDecision | None = None,
) -> Message:
    """The card for the approvals channel, in the request's current state.

    ``blocked``: ``block_on_risk`` refuses this plan's approval (the radar says ``data-loss``): the
    card says so and offers Reject and "Override and approve" (for override approvers; the core
    refuses anyone else). Once approved all the same, it says who overrode it and why.

    ``progress``: the approvals counted under the request's policy; under the original rule (one
    approval) it adds nothing, so the card is drawn as it always was. ``runs``: a release's targets.
    ``window``: the change-window decision for its targets now, shown while it is pending (None: no
    window applies).
    """
    title = request_title(request)
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=clip(f"{_STATE_ICONS.get(request.state, '')} {title}", 150))),
        section(
            f"*{request.id}* · requested by {person(request.requester_id, request.requester_name)}"
            f"{origin_note(request.origin)} · {when(request.created_at)}"
        ),
    ]
    plan = request.plan
    if isinstance(plan, SyncPlan):
        radars = [risk_text(t, pending=request.state == "pending") for t in plan.targets]
        if plan.is_release:  # each target's verdict, named
            radars = [
                f"*{escape(t.model.name)}:* {r}" if r else None
                for t, r in zip(plan.targets, radars, strict=True)
            ]
        for radar in filter(None, radars):
            blocks.append(section(radar))  # at the top: what an approver must know first
        if blocked and request.state == "pending" and any(radars):
            blocks.append(section(BLOCKED_LINE))
        elif blocked and request.state not in _NOT_APPROVED:  # only an override gets it past the block
            blocks.append(section(overridden_line(request)))
    blocks.append(_facts(request))
    if isinstance(plan, SyncPlan) and plan.is_release:
        blocks += release_targets(request, runs)
    elif isinstance(plan, SyncPlan):
        blocks.append(section(f"*What changes*\n{change_summary(plan.target)}"))
    if progress is not None and shows_progress(progress):
        blocks.extend(progress_blocks(request, progress))
        pending = request.state == "pending"
        blocks.append(section(waiting_line(request, progress) if pending else state_line(request)))
    else:
        blocks.append(section(state_line(request)))
    blocks.extend(_window_lines(request, window))
    if request.state == "pending":
        blocks.append(_buttons(request, blocked=blocked))
    elif request.state == "scheduled":
        blocks.append(_override_button(request))
    elif request.state in ("expired", "failed", "rejected") and request.operation == "sync":
        blocks.append(context(f"To try again: {code(_sync_command(request))}"))
    fallback = f"{title} ({request.id}) — {request.state}"
    if request.state == "pending":
        fallback = f"Approval needed: {title} ({request.id})"
    return Message(fallback, tuple(blocks))


def _window_lines(request: ApprovalRequest, window: WindowDecision | None) -> list[Block]:
    """The change window's state: why a scheduled request waits, who overrode it, or, while pending,
    whether it could run now."""
    hold = request.window
    if hold is not None and hold.overridden_by_id is not None:
        reason = escape(clip(hold.override_reason or "", 500))
        return [context(f"⚠️ Run outside its change window ({escape(hold.reason)}): {reason}")]
    if request.state == "scheduled" and hold is not None:
        return [context(f"🪟 Waiting: {escape(hold.reason)}")]
    if request.state == "executing" and hold is not None and request.runs_at is not None:
        runs = escape(runs_at_label(request))
        return [
            context(f"🪟 The next wave waits for its change window ({escape(hold.reason)}): runs at {runs}")
        ]
    if request.state != "pending" or window is None:
        return []
    if window.may_run:
        return [context(f"🪟 Change window: {escape(window.reason)}")]
    label = window.runs_at_label(request.created_at)
    runs = f"if approved, it runs at {escape(label)}" if label else "no window opens within a year"
    return [context(f"🪟 Change window: {escape(window.reason)} — {runs}")]


def change_summary(target: SyncTarget) -> str:
    """Counts of created / modified / deleted objects by category, or why there are none (mrkdwn)."""
    if target.summary is not None:
        return _counts(target.summary)
    if target.summary_error:
        return f"⚠️ Anaplan could not compute the summary: {escape(clip(target.summary_error, 500))}"
    if target.summary_task_id:
        return "⏳ computing…"
    return "⚠️ No summary: Anaplan did not start the comparison. See `/alm compare` for the details."


def _counts(summary: SummaryReport) -> str:
    if not summary.differences:
        return "No structural differences."
    lines = [f"• {_category_name(key)}: {_triple(counts)}" for key, counts in summary.differences.items()]
    lines.append(f"*Total:* {_triple(summary.totals)}")
    return "\n".join(lines)


def _triple(counts: SummaryCounts) -> str:
    parts = [f"{getattr(counts, k)} {k}" for k in ("created", "modified", "deleted") if getattr(counts, k)]
    return ", ".join(parts) or "no changes"


def _category_name(key: str) -> str:
    if key in _CATEGORY_NAMES:
        return _CATEGORY_NAMES[key]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", key).lower()
    return escape(words[:1].upper() + words[1:])


def _facts(request: ApprovalRequest) -> SectionBlock:
    plan = request.plan
    if isinstance(plan, SyncPlan) and plan.is_release:
        source, revision = plan.source, plan.source_revision
        fields = [
            f"*Source*\n{model_label(source.name, source.alias)}\n{code(source.id or '?')}",
            f"*Revision*\n*{escape(revision.name or '?')}*\n"
            f"{escape(clip(revision.description or 'no description', 300))}",
            f"*Made by*\n{escape(revision.created_by or 'unknown')}\n{_date(revision.created_on)}",
        ]
    elif isinstance(plan, SyncPlan):
        source, target, revision = plan.source, plan.target.model, plan.source_revision
        fields = [
            f"*Source*\n{model_label(source.name, source.alias)}\n{code(source.id or '?')}",
            f"*Target*\n{model_label(target.name, target.alias)}\n"
            f"{code(target.id or request.target_model_id)}",
            f"*Revision*\n*{escape(revision.name or '?')}*\n"
            f"{escape(clip(revision.description or 'no description', 300))}",
            f"*Made by*\n{escape(revision.created_by or 'unknown')}\n{_date(revision.created_on)}",
            f"*Target is now at*\n{escape(plan.target.revision.name or '?')}",
        ]
    else:
        fields = [
            f"*Model*\n{model_label(plan.model.name, plan.model.alias)}\n"
            f"{code(plan.model.id or request.target_model_id)}",
            f"*Change*\n{escape(plan.from_state or '?')} → *{escape(plan.status)}*",
        ]
    return SectionBlock(fields=[MarkdownTextObject(text=clip(f, 2000)) for f in fields])


def _date(value: datetime | None) -> str:
    return when(value) if value is not None else "date unknown"


def _sync_done(request: ApprovalRequest) -> str:
    plan = request.plan
    if not isinstance(plan, SyncPlan):
        return f"{request.target_model_id} changed."
    target = plan.target.model.name or request.target_model_id
    return f"{target} now has revision {plan.source_revision.name or '?'}."


def _failure(result: TaskOutcome | None) -> str:
    text = (reason_text(result.title, result.message) if result else None) or "Anaplan gave no reason"
    return escape(clip(text, 1000))


def _buttons(request: ApprovalRequest, *, blocked: bool = False) -> ActionsBlock:
    value = button_value(request.id)
    reject = ButtonElement(text="Reject", action_id=REJECT, value=value, style="danger")
    if blocked:  # only override approvers get past the block (the core decides; others are told)
        override = ButtonElement(text="Override and approve", action_id=APPROVE, value=value)
        return ActionsBlock(block_id="decision", elements=[reject, override])
    approve_button = ButtonElement(text="Approve", action_id=APPROVE, value=value, style="primary")
    return ActionsBlock(block_id="decision", elements=[approve_button, reject])


def _override_button(request: ApprovalRequest) -> ActionsBlock:
    return ActionsBlock(
        block_id="override",
        elements=[
            ButtonElement(text="Run now (override)", action_id=OVERRIDE, value=button_value(request.id))
        ],
    )


def _sync_command(request: ApprovalRequest) -> str:
    plan = request.plan
    if not isinstance(plan, SyncPlan):
        return "/alm sync"
    source = plan.source.alias or plan.source.id or "?"
    target = plan.target.model.alias or plan.target.model.id or request.target_model_id
    return f"/alm sync {source} {target}"
