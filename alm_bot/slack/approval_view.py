"""The approval policy in Slack's words: the card's count and stages, reminders, escalation, ``/alm policy``.

Drawn from the core's records (`alm_bot.approval_policy`): `ApprovalProgress` for a request as
stored now, `EffectivePolicy` for a target. A request under alm-bot's original rule (one approval,
no stages, no reminder) draws nothing here, so its card stays exactly as it always was.
"""

from __future__ import annotations

from datetime import timedelta

from slack_sdk.models.blocks import Block

from alm_bot.approval_policy import ApprovalProgress, EffectivePolicy, StageProgress
from alm_bot.slack.formatting import escape, person, plural, when
from alm_bot.slack.message import Message, context, section
from alm_bot.slack.wording import approvers_mentioned
from alm_bot.store import ApprovalRequest

__all__ = [
    "approvals_line",
    "counted_reply",
    "escalated_dm",
    "escalated_reply",
    "policy_blocks",
    "policy_message",
    "progress_blocks",
    "reminder_reply",
    "shows_progress",
    "waiting_line",
]


def shows_progress(progress: ApprovalProgress | None) -> bool:
    """Whether the card has more to say than "waiting for an approver" / "approved by X"."""
    return progress is not None and not (progress.policy.plain and not progress.escalated)


def approvals_line(progress: ApprovalProgress) -> str:
    """``1 of 2 approvals: <@grace>`` (mrkdwn)."""
    people = [person(a.person_id, a.person_name) for s in progress.stages for a in s.approved_by]
    names = f": {', '.join(people)}" if people else ""
    return f"{progress.counted} of {plural(progress.required, 'approval')}{names}"


def waiting_line(request: ApprovalRequest, progress: ApprovalProgress) -> str:
    """The pending card's state line under a policy: how many approvals are still missing."""
    missing = progress.required - progress.counted
    expiry = f" · expires {when(request.expires_at)}" if request.expires_at else ""
    return f"🕓 Waiting for {plural(missing, 'more approval')}{expiry}"


def progress_blocks(request: ApprovalRequest, progress: ApprovalProgress) -> list[Block]:
    """The card's approval part: the count, or stage by stage; escalation; the release's strictest."""
    lines: list[str] = []
    if progress.policy.staged:
        lines.append("*Approvals, stage by stage*")
        lines += [_stage_line(n, s, request.state) for n, s in enumerate(progress.stages, start=1)]
    else:
        icon = "✅" if progress.met else "🕓"
        lines.append(f"{icon} {approvals_line(progress)}")
    blocks: list[Block] = [section("\n".join(lines))]
    notes = []
    if progress.escalated and request.state == "pending":
        notes.append(f"⏫ Escalated: {approvers_mentioned(progress.policy.escalate_to)} may approve too.")
    if progress.policy.strictest:
        notes.append(
            f"Policy of {escape(progress.policy.strictest)}, the strictest of the targets "
            f"({escape(progress.policy.source)})."
        )
    if notes:
        blocks.append(context(" ".join(notes)))
    return blocks


def _stage_line(number: int, stage: StageProgress, state: str) -> str:
    name = f" {escape(stage.stage.name)}" if stage.stage.name else ""
    people = ", ".join(person(a.person_id, a.person_name) for a in stage.approved_by)
    tally = f"{len(stage.approved_by)} of {stage.stage.count}"
    if stage.met:
        return f"✅ {number}.{name} — {tally}: {people}"
    waiting = f"waiting for {approvers_mentioned(stage.stage.approvers)}" if state == "pending" else "not met"
    done = f": {people}" if people else ""
    return f"🕓 {number}.{name} — {tally}{done} · {waiting}"


def counted_reply(request: ApprovalRequest, progress: ApprovalProgress) -> Message:
    """Told privately to an approver whose approval counted but did not complete the policy."""
    missing = progress.required - progress.counted
    text = (
        f"✅ Your approval of *{escape(request.id)}* is counted ({approvals_line(progress)}). "
        f"It needs {plural(missing, 'more approval')} before the change starts."
    )
    return Message(f"Your approval of {request.id} is counted", (section(text),))


def reminder_reply(request: ApprovalRequest, progress: ApprovalProgress) -> Message:
    """The one reminder, in the card's thread."""
    if request.state != "pending":
        text = f"⏰ Reminder for {request.id}: it is {request.state} now, nothing more is needed."
        return Message(text, (section(escape(text)),))
    who = approvers_mentioned(progress.still_possible())
    text = (
        f"⏰ Reminder: {escape(request.id)} still waits for approval ({approvals_line(progress)}). "
        f"Who can still approve: {who}."
    )
    if request.expires_at is not None:
        text += f" It expires {when(request.expires_at)}."
    return Message(f"Reminder: {request.id} still waits for approval", (section(text),))


def escalated_reply(request: ApprovalRequest, progress: ApprovalProgress) -> Message:
    """The escalation, in the card's thread: who may approve now."""
    who = approvers_mentioned(progress.policy.escalate_to)
    text = f"⏫ Escalated: {escape(request.id)} waited too long, so {who} may approve or reject it too."
    return Message(f"Escalated: {request.id}", (section(text),))


def escalated_dm(request: ApprovalRequest, progress: ApprovalProgress, title: str) -> Message:
    """What each person the escalation adds is told (``title``: the request's, in plain text)."""
    title = escape(title)
    text = (
        f"⏫ *{title}* ({escape(request.id)}) has waited for approval since {when(request.created_at)}, "
        f"so you may now approve or reject it ({approvals_line(progress)}). "
        "Its card is in the approvals channel."
    )
    if request.state != "pending":
        text = f"⏫ {title} ({escape(request.id)}) was escalated to you; it is {request.state} now."
    return Message(f"Escalated to you: {request.id}", (section(text),))


def policy_blocks(policy: EffectivePolicy) -> list[str]:
    """The effective rules, one line each (mrkdwn) — shared by ``/alm policy`` and nothing else."""
    lines = []
    if policy.staged:
        lines.append(
            f"*{plural(policy.required, 'approval')}*, in {len(policy.stages)} stages (all of them):"
        )
        for number, stage in enumerate(policy.stages, start=1):
            name = f" {escape(stage.name)}" if stage.name else ""
            lines.append(f"  {number}.{name} {stage.count} of {approvers_mentioned(stage.approvers)}")
    else:
        (stage,) = policy.stages
        lines.append(f"*{plural(policy.required, 'approval')}* from {approvers_mentioned(stage.approvers)}")
    lines.append(
        "The requester never counts; each person counts once, in one stage only."
        if not policy.allow_self_approval
        else "Self-approval is allowed (allow_self_approval = true): the requester may count."
    )
    if policy.remind_after is not None:
        lines.append(f"Reminder in the card's thread after {_duration(policy.remind_after)}.")
    if policy.escalates and policy.escalate_after is not None:
        lines.append(
            f"Escalation after {_duration(policy.escalate_after)}: "
            f"{approvers_mentioned(policy.escalate_to)} may approve too (told by DM)."
        )
    lines.append(f"Expires after {_duration(policy.expires_after)} without a decision.")
    return lines


def policy_message(label: str, policy: EffectivePolicy, protected: bool) -> Message:
    """``/alm policy MODEL``: the rules a change into the model is decided under."""
    head = f"*Approval policy for {escape(label)}* · from `{escape(policy.source)}`"
    if not protected:
        head += "\n_Not protected now: changes run without approval. If it becomes protected:_"
    return Message(f"Approval policy for {label}", (section(head + "\n" + "\n".join(policy_blocks(policy))),))


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0 and seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
