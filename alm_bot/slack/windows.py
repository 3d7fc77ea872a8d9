"""``/alm windows [MODEL]``: the change windows, open now or next, and whether a model may change now."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from alm_bot.operations.scheduling import WindowReport
from alm_bot.slack.formatting import code, escape
from alm_bot.slack.message import Message, context, section
from alm_bot.windows import WindowState, local_label

__all__ = ["windows_message"]


def windows_message(report: WindowReport) -> Message:
    """One line per window (open until …, or next opening), and for a model the decision now."""
    scope = f" for {code(report.model)}" if report.model else ""
    blocks: list[Block] = [section(f"*Change windows{scope}*")]
    decision = report.decision
    if decision is not None:
        icon = "✅" if decision.may_run else "⛔"
        runs = "" if decision.may_run else _runs(decision.runs_at_label(report.now))
        blocks.append(section(f"{icon} {escape(decision.reason)}{runs}"))
    if not report.states:
        blocks.append(context("No change window applies: changes may run at any time."))
    blocks += [section(_line(state, report)) for state in report.states[:40]]
    if len(report.states) > 40:
        blocks.append(context(f"… and {len(report.states) - 40} more"))
    return Message(f"Change windows{' for ' + report.model if report.model else ''}", tuple(blocks))


def _runs(label: str | None) -> str:
    return f" — it may change from {escape(label)}" if label else " — no window opens within a year"


def _line(state: WindowState, report: WindowReport) -> str:
    window = state.window
    models = ", ".join(sorted(window.models))
    head = f"*{escape(window.label)}* · {window.kind} · {code(models)} · {code(window.schedule)}"
    if state.current is not None:
        status = f"🟢 open until {escape(local_label(state.current.closes, window.zone, report.now))}"
    else:
        status = "⚪ closed"
    upcoming = (
        f" · next opens {escape(local_label(state.next.opens, window.zone, report.now))}"
        if state.next is not None
        else " · opens no more"
    )
    return f"{head}\n{status}{upcoming}"
