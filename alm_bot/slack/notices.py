"""Messages the watcher delivers besides the card: thread replies on the card, and direct messages.

Each renderer takes the request as stored *now*, so a notice delivered late (after a retry, or
after a restart) still says what is true. Thread replies keep the approvals channel quiet: only the
card sits in the channel, its progress and outcome live in its thread.
"""

from __future__ import annotations

from slack_sdk.models.blocks import HeaderBlock, PlainTextObject

from alm_bot.actor import break_glass_by
from alm_bot.anaplan.verdict import reason_text
from alm_bot.records import ComparisonReady, NoticesRecovered, RiskOverridden, SyncPlan, TaskProgress
from alm_bot.slack.cards import change_summary, request_title, state_line
from alm_bot.slack.formatting import clip, code, escape, person, when
from alm_bot.slack.message import Message, context, section
from alm_bot.store import ApprovalRequest

__all__ = [
    "cancelled_dm",
    "comparison_message",
    "comparison_title",
    "decided_dm",
    "expired_dm",
    "finished_dm",
    "finished_reply",
    "override_message",
    "progress_reply",
    "update_dm",
]


def progress_reply(payload: TaskProgress) -> Message:
    """``🔄 Step: Applying changes (60%)`` in the card's thread."""
    step = payload.step or "working"
    progress = payload.progress
    share = f" ({float(progress):.0%})" if progress is not None else ""
    text = f"🔄 {payload.target}: {step}{share}" if payload.target else f"🔄 {step}{share}"
    return Message(text, (section(escape(text)),))


def finished_reply(request: ApprovalRequest) -> Message:
    """The outcome in the card's thread."""
    line = state_line(request)
    return Message(f"{request_title(request)} ({request.id}): {request.state}", (section(line),))


def recovered_message(payload: NoticesRecovered) -> Message:
    """To the approvals channel: Slack refused notices for a while; they have been delivered since."""
    count, error = payload.count, escape(payload.error or "refused")
    text = (
        f"ℹ️ Slack refused {count} alm-bot notice(s) (`{error}`) from {escape(payload.since)} "
        f"to {escape(payload.until)}. They have been delivered now: cards and replies above "
        "may have arrived late."
    )
    return Message(f"Slack refused {count} notice(s) for a while; they are delivered now.", (section(text),))


def card_refused_dm(request: ApprovalRequest, error: str) -> Message:
    """To the requester: the approvers cannot see the request's card, because Slack refuses it."""
    text = (
        f"⚠️ Your request *{request.id}* ({escape(request_title(request))}) cannot be shown in the "
        f"approvals channel: Slack answers `{escape(error)}`. The approvers may not know it is waiting — "
        "ask an admin to check the bot's channel (`alm-bot check`). The card is posted once Slack accepts it."
    )
    return Message(f"Your request {request.id} cannot be shown to the approvers yet.", (section(text),))


def break_glass_reply(request: ApprovalRequest) -> Message:
    """In the card's thread: this request was decided outside Slack — the approvers should review it."""
    decider = person(request.decided_by_id, request.decided_by_name)
    verb = "rejected" if request.state == "rejected" else "approved"
    ran = break_glass_by(request.decided_by_name) or "unknown"
    reason = f"\n> {escape(clip(request.reason, 500))}" if request.reason else ""
    text = (
        f"⚠️ *Decided outside Slack — review.* {decider} {verb} {request.id} with the break-glass CLI "
        f"(`alm-bot requests`, run by {escape(ran)}).{reason}"
    )
    return Message(f"Request {request.id} was decided outside Slack: review it.", (section(text),))


def override_message(request: ApprovalRequest) -> Message:
    """To the approvals channel: someone ran a scheduled request outside its change window."""
    hold = request.window
    who = person(hold.overridden_by_id, hold.overridden_by_name) if hold else "someone"
    waited = f" ({escape(hold.reason)})" if hold and hold.reason else ""
    reason = f"\n> {escape(clip(hold.override_reason, 500))}" if hold and hold.override_reason else ""
    text = (
        f"⚠️ *Change window overridden.* {who} ran request *{request.id}* "
        f"({escape(request_title(request))}) now instead of at its window{waited}.{reason}"
    )
    return Message(f"Request {request.id} was run outside its change window: review it.", (section(text),))


def risk_override_message(request: ApprovalRequest, override: RiskOverridden) -> Message:
    """To the approvals channel: an override approver approved a sync that ``block_on_risk`` refuses."""
    who = person(override.by_id, override.by_name)
    text = (
        f"⚠️ *block_on_risk overridden.* {who} approved request *{request.id}* "
        f"({escape(request_title(request))}) although the data-loss radar says it destroys data."
        f"\n> {escape(clip(override.reason, 500))}"
    )
    return Message(f"Request {request.id} was approved past block_on_risk: review it.", (section(text),))


def decided_dm(request: ApprovalRequest) -> Message:
    """Tell the requester who decided, and what happens next."""
    title = escape(request_title(request))
    decider = person(request.decided_by_id, request.decided_by_name)
    if request.state == "rejected":
        reason = f"\n> {escape(clip(request.reason, 500))}" if request.reason else ""
        text = f"🚫 {decider} rejected your request *{request.id}* ({title}).{reason}"
        return Message(f"Your request {request.id} was rejected.", (section(text),))
    next_step = (
        "I'll tell you when it is done." if request.state in ("approved", "scheduled", "executing") else ""
    )
    text = f"✅ {decider} approved your request *{request.id}* ({title}). {next_step}".rstrip()
    return Message(f"Your request {request.id} was approved.", (section(text), context(state_line(request))))


def expired_dm(request: ApprovalRequest) -> Message:
    expired_at = f" at {when(request.expires_at)}" if request.expires_at else ""
    text = (
        f"⌛ Your request *{request.id}* ({escape(request_title(request))}) *EXPIRED*{expired_at}: "
        "nobody decided in time, and nothing was changed. Ask again if it is still needed."
    )
    return Message(f"Your request {request.id} expired without a decision.", (section(text),))


def cancelled_dm(request: ApprovalRequest) -> Message:
    text = f"↩️ Request *{request.id}* ({escape(request_title(request))}) was cancelled. Nothing was changed."
    return Message(f"Request {request.id} was cancelled.", (section(text),))


def finished_dm(request: ApprovalRequest) -> Message:
    """Tell the requester how their change ended."""
    title = escape(request_title(request))
    ok = request.state == "succeeded"
    head = f"{'✅' if ok else '❌'} Your request *{request.id}* ({title}) {'succeeded' if ok else 'failed'}."
    return Message(
        f"Your request {request.id} {request.state}.", (section(head), context(state_line(request)))
    )


def update_dm(request: ApprovalRequest) -> Message:
    """Any other news about a request, for a person: where it stands now."""
    text = f"*{request.id}* ({escape(request_title(request))}): {state_line(request)}"
    return Message(f"Request {request.id} is {request.state}.", (section(text),))


def comparison_title(plan: SyncPlan) -> str:
    """Plain text: ``R4 of FP&A DEV compared with FP&A PROD``."""
    revision = plan.source_revision.name or "?"
    source = plan.source.name or plan.source.id or "?"
    target = plan.target.model.name or plan.target.model.id or "?"
    return f"{revision} of {source} compared with {target}"


def comparison_message(payload: ComparisonReady) -> Message:
    """A finished comparison summary (or why it failed), for the person who asked."""
    outcome = payload.outcome
    title = comparison_title(payload.plan)
    task = context(f"Anaplan task {code(payload.task_id or '?')}")
    header = HeaderBlock(text=PlainTextObject(text=clip(f"🔍 {title}", 150)))
    if not outcome.successful:
        reason = reason_text(outcome.title, outcome.message) or "no reason given"
        text = f"❌ The comparison failed: {escape(clip(reason, 1000))}"
        return Message(f"The comparison {title} failed.", (header, section(text), task))
    if payload.task_kind == "comparison_report":
        text = "📄 The full comparison report is ready."
        return Message(f"Comparison report: {title}", (header, section(text), task))
    shown = payload.plan.target.model_copy(
        update={"summary": outcome.summary, "summary_error": outcome.summary_error, "summary_task_id": None}
    )
    text = f"*What a sync would change*\n{change_summary(shown)}"
    return Message(f"Comparison ready: {title}", (header, section(text), task))
