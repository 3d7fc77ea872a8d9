"""Answers to ``/alm`` subcommands: help, lists, details and the outcome of a change, as Messages.

Lists show at most `LIST_LIMIT` items, one section each (readable on a phone), and say how many
were left out and how to narrow the list. Ids are in inline code so they can be copied into the
next command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from slack_sdk.models.blocks import Block, HeaderBlock, PlainTextObject

from alm_bot.anaplan.models import (
    CompletedReportTask,
    CompletedSyncTask,
    ModelRevision,
    PendingTask,
    Revision,
    TaskSummary,
)
from alm_bot.anaplan.verdict import verdict_of
from alm_bot.approval_policy import split_approvers
from alm_bot.config import ApprovalConfig
from alm_bot.directory import ModelInfo
from alm_bot.errors import AlmBotError
from alm_bot.operations import ComparisonStarted, RequestOutcome
from alm_bot.slack.cards import model_label, origin_note, request_title, state_line
from alm_bot.slack.formatting import clip, code, escape, person, plural, when
from alm_bot.slack.message import Message, clipped, context, section
from alm_bot.slack.parsing import SUBCOMMANDS
from alm_bot.slack.wording import approvers_mentioned, in_slack_words
from alm_bot.store import ApprovalRequest, AuditEvent

__all__ = [
    "applied_models",
    "audit_list",
    "cancelled",
    "comparison_started",
    "error_message",
    "help_message",
    "latest_revision",
    "model_list",
    "request_list",
    "request_outcome",
    "revision_created",
    "revision_list",
    "sync_task",
    "task_list",
]

T = TypeVar("T")


def error_message(error: AlmBotError | str) -> Message:
    """An error for the person who typed the command: the core's facts, worded for Slack."""
    if isinstance(error, str):
        return Message(error, (section(f"⚠️ {escape(error)}"),))
    text = in_slack_words(error)
    return Message(text, (section(f"⚠️ {text}"),))


def help_message(unknown: str | None = None) -> Message:
    """One usage line per subcommand."""
    lines = [f"`{escape(s.usage)}` — {escape(s.summary)}" for s in SUBCOMMANDS.values()]
    blocks: list[Block] = []
    if unknown is not None:
        blocks.append(section(f"I don't know `/alm {escape(clip(unknown, 40))}`. This is what I can do:"))
    else:
        blocks.append(HeaderBlock(text=PlainTextObject(text="alm-bot — Anaplan ALM from Slack")))
    blocks.append(section("\n".join(lines)))
    blocks.append(
        context(
            escape(
                "Name models by alias, id or exact name; "
                'put names with spaces in quotes: /alm revisions "FP&A PROD".'
            )
        )
    )
    return Message("Usage: " + "; ".join(s.usage for s in SUBCOMMANDS.values()), tuple(blocks))


def model_list(models: Sequence[ModelInfo], text_filter: str | None) -> Message:
    def line(m: ModelInfo) -> str:
        lock = " · 🔒 protected" if m.protected else ""
        status = "online" if m.online else "offline"
        alias = f" {code(m.alias)}" if m.alias else ""
        return (
            f"*{escape(m.name)}*{alias}{lock}\n"
            f"{escape(m.active_state)} · {status} · {escape(m.workspace_name)} · {code(m.id)}"
        )

    matching = f" matching “{text_filter}”" if text_filter else ""
    if not models:
        return _empty(f"No models{matching}. Try /alm models without a filter.")
    narrow = "narrow with /alm models <filter>"
    return _listing(f"{plural(len(models), 'model')}{matching}", models, line, narrow)


def revision_list(model: str, revisions: Sequence[Revision], what: str = "revisions") -> Message:
    if not revisions:
        return _empty(f"{model} has no {what}.")
    return _listing(f"{plural(len(revisions), 'revision')} — {model}", revisions, _revision_line, "")


def latest_revision(model: str, revision: Revision | None) -> Message:
    if revision is None:
        return _empty(f"{model} has no revision yet.")
    return Message(f"Latest revision of {model}: {revision.name}", (section(_revision_line(revision)),))


def applied_models(revision: str, models: Sequence[ModelRevision]) -> Message:
    def line(m: ModelRevision) -> str:
        deleted = " · (model deleted)" if m.model_deleted else ""
        applied = f" · applied {when(m.applied_on)}" if m.applied_on else ""
        by = f" by {escape(m.applied_by)}" if m.applied_by else ""
        name = m.model_name or ("a deleted model" if m.model_deleted else "a model without a name")
        model_id = f" {code(m.model_id)}" if m.model_id else ""
        return f"*{escape(name)}*{model_id}{applied}{by}{deleted}"

    if not models:
        return _empty(f"Revision {revision} has not been applied to any model.")
    return _listing(f"Revision {revision} is in {plural(len(models), 'model')}", models, line, "")


def task_list(model: str, tasks: Sequence[TaskSummary]) -> Message:
    def line(t: TaskSummary) -> str:
        return f"{code(t.task_id)} · {escape(t.task_state)} · {when(t.creation_time)}"

    if not tasks:
        return _empty(f"No sync tasks into {model}.")
    newest_first = sorted(tasks, key=lambda t: t.creation_time, reverse=True)
    return _listing(f"{plural(len(tasks), 'sync task')} — {model}", newest_first, line, "")


def sync_task(model: str, task: PendingTask | CompletedSyncTask | CompletedReportTask) -> Message:
    lines = [f"*Task* {code(task.task_id)} on {escape(model)}", f"State: *{escape(task.task_state)}*"]
    if task.current_step:
        lines.append(f"Step: {escape(task.current_step)}")
    if task.progress is not None:
        lines.append(f"Progress: {task.progress:.0%}")
    lines.append(f"Started {when(task.creation_time)}")
    verdict = verdict_of(task, what="sync") if task.is_finished else None
    if verdict is not None:
        outcome = "✅ successful" if verdict.successful else f"❌ failed: {escape(verdict.reason or '')}"
        lines.append(f"Result: {outcome}")
    return Message(f"Task {task.task_id}: {task.task_state}", (section("\n".join(lines)),))


def revision_created(model: ModelInfo, revision: Revision) -> Message:
    text = (
        f"🏷️ Created revision *{escape(revision.name)}* {code(revision.id)} "
        f"on {model_label(model.name, model.alias)}. "
        f"Sync it with `/alm sync {escape(model.alias or model.id)} <target>`."
    )
    return Message(f"Created revision {revision.name} on {model.name}", (section(text),))


def comparison_started(started: ComparisonStarted) -> Message:
    what = "the full report as a file" if started.kind == "comparison_report" else "a summary of the changes"
    text = (
        f"🔍 Comparing revision *{escape(started.source_revision.name)}* of "
        f"{model_label(started.source.name, started.source.alias)} with "
        f"{model_label(started.target.name, started.target.alias)}. "
        f"I'll send you {what} in a direct message when Anaplan has it."
    )
    return Message(f"Comparing {started.source.name} with {started.target.name}", (section(text),))


def request_outcome(outcome: RequestOutcome, approval: ApprovalConfig) -> Message:
    """What happened to a sync or status change just asked for."""
    request = outcome.request
    title = escape(request_title(request))
    if outcome.status == "awaiting_approval":
        where = f" in <#{approval.channel}>" if approval.channel else ""
        text = (
            f"🕓 *{title}* needs approval: request *{request.id}* is waiting{where} for "
            f"{approvers_mentioned(split_approvers(outcome.approvers))}. "
            f"Withdraw it with `/alm cancel {request.id}`."
        )
        return Message(f"Request {request.id} is waiting for approval.", (section(text),))
    if outcome.status == "started":
        task = f" (Anaplan task {code(outcome.task_id)})" if outcome.task_id else ""
        text = f"🔄 *{title}* started{task}. I'll send you a direct message when it finishes."
        return Message(f"{request_title(request)} started.", (section(text),))
    return Message(
        f"{request_title(request)}: {request.state}", (section(f"*{title}*\n{state_line(request)}"),)
    )


def cancelled(request: ApprovalRequest) -> Message:
    text = f"↩️ Request *{request.id}* ({escape(request_title(request))}) is cancelled. Nothing was changed."
    return Message(f"Request {request.id} is cancelled.", (section(text),))


def request_list(requests: Sequence[ApprovalRequest], heading: str, *, capped: bool = False) -> Message:
    def line(r: ApprovalRequest) -> str:
        who = person(r.requester_id, r.requester_name) + origin_note(r.origin)
        return f"*{r.id}* · {escape(request_title(r))} · by {who} · {when(r.created_at)}\n{state_line(r)}"

    if not requests:
        return _empty(f"No {heading}.")
    count = f"{len(requests)}+" if capped else str(len(requests))
    return _listing(f"{count} requests — {heading}", requests, line, "", capped=capped)


def audit_list(events: Sequence[AuditEvent], model: str | None, *, capped: bool = False) -> Message:
    def line(e: AuditEvent) -> str:
        who = person(e.actor_id, e.actor_name) if (e.actor_id or e.actor_name) else "alm-bot"
        request = f" · {e.request_id}" if e.request_id else ""
        return f"{when(e.at)} · *{escape(e.action)}*{request} · {who}"

    scope = f" of {model}" if model else ""
    if not events:
        return _empty(f"No audit events{scope}.")
    return _listing(f"Recent audit events{scope}", events, line, "", capped=capped)


def _revision_line(r: Revision) -> str:
    description = f"\n{escape(clip(r.description, 200))}" if r.description else ""
    by = f" by {escape(r.created_by)}" if r.created_by else ""
    applied = f" · applied {when(r.applied_on)}" if r.applied_on else ""
    return f"*{escape(r.name)}* {code(r.id)}{description}\ncreated {when(r.created_on)}{by}{applied}"


def _empty(text: str) -> Message:
    """A one-line answer; ``text`` is plain."""
    return Message(text, (section(escape(text)),))


def _listing(
    heading: str, items: Sequence[T], line: Callable[[T], str], narrow: str, *, capped: bool = False
) -> Message:
    """A plain-text heading, one mrkdwn section per item (at most LIST_LIMIT), and what was left out."""
    shown, left_out = clipped(items)
    blocks: list[Block] = [section(f"*{escape(heading)}*")]
    blocks += [section(line(item)) for item in shown]
    if left_out:
        hint = f"; {narrow}" if narrow else ""
        more = f"{left_out}+" if capped else str(left_out)
        blocks.append(context(escape(f"… and {more} more{hint}")))
    return Message(heading, tuple(blocks))
