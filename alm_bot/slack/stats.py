"""``/alm stats [model]``: the delivery figures of the last 90 days, worded for Slack."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from alm_bot.actor import Actor
from alm_bot.slack.bot import Bot
from alm_bot.slack.formatting import escape, plural
from alm_bot.slack.message import Message, clipped, context, section
from alm_bot.slack.parsing import Invocation
from alm_bot.stats import DEFAULT_PERIOD, DeliveryReport, ModelFigures, format_duration
from alm_bot.stats_history import delivery_report

__all__ = ["stats_command", "stats_message"]


async def stats_command(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0]) if inv.args else None
    report = await delivery_report(
        bot.ops.store, period=DEFAULT_PERIOD, now=bot.ops.clock(), model_id=model.id if model else None
    )
    return stats_message(report, model.label if model else None)


def stats_message(report: DeliveryReport, model: str | None) -> Message:
    days = (report.until - report.since).days
    scope = f" into {model}" if model else ""
    heading = f"Delivery figures{scope}, last {days} days"
    if not report.models:
        text = f"No syncs ran{scope} in the last {days} days."
        return Message(text, (section(escape(text)),))
    shown, left_out = clipped(report.models)
    blocks: list[Block] = [section(f"*{escape(heading)}*"), *(section(_figures(f)) for f in shown)]
    if left_out:
        blocks.append(context(escape(f"… and {left_out} more models; try /alm stats <model>")))
    blocks.append(context("Lead time: request → succeeded. Restore: a failed target's next success."))
    return Message(heading, tuple(blocks))


def _figures(f: ModelFigures) -> str:
    failing = f", {f.not_restored} still failing" if f.not_restored else ""
    return (
        f"*{escape(f.model_name)}*\n"
        f"{f.deployments_per_week:.1f} deployments/week ({plural(f.succeeded, 'sync')} succeeded) · "
        f"lead time {format_duration(f.lead_time_seconds)} (median)\n"
        f"change failure rate {f.change_failure_rate:.0%} ({f.failed} of {f.deployments}) · "
        f"time to restore {format_duration(f.time_to_restore_seconds)} ({f.restored} restored{failing})"
    )
