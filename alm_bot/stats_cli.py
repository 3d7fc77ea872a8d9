"""``alm-bot stats [--since 90d] [--model M] [--json]``: delivery figures per model, from the database only.

It needs no Anaplan login: ``--model`` takes an alias from the configuration or a model id, and
models are named as the requests recorded them.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alm_bot.config import Settings
    from alm_bot.stats import DeliveryReport, ModelFigures

    Subparsers = argparse._SubParsersAction[Any]

__all__ = ["add_stats_command", "report_json", "report_text"]


def add_stats_command(sub: Subparsers) -> None:
    p = sub.add_parser("stats", help="delivery figures per model: deployments, lead time, failures, restore")
    p.add_argument("--since", default="90d", help="period to look back over: e.g. 90d (default), 12w, 48h")
    p.add_argument("--model", help="only this target model (alias from the configuration, or model id)")
    p.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run_stats)


def _run_stats(args: argparse.Namespace) -> int:
    import anyio

    from alm_bot.config import load_settings
    from alm_bot.stats import parse_period

    period = parse_period(args.since)  # refused before the database is opened
    report = anyio.run(_report, load_settings(), period, args.model)
    print(json.dumps(report_json(report), indent=2) if args.as_json else report_text(report))
    return 0


async def _report(settings: Settings, period: Any, model: str | None) -> DeliveryReport:
    from alm_bot.operations import utc_now
    from alm_bot.stats_history import delivery_report
    from alm_bot.store import Store

    store = Store(settings.database_url)
    try:
        await store.upgrade()
        return await delivery_report(store, period=period, now=utc_now(), model_id=_model_id(settings, model))
    finally:
        await store.dispose()


def _model_id(settings: Settings, model: str | None) -> str | None:
    from alm_bot.errors import InvalidArgument

    if model is None:
        return None
    configured = settings.models.get(model) or settings.models.get(model.casefold())
    if configured is not None:
        return configured.id
    if re.fullmatch(r"[0-9A-Fa-f]{32}", model):
        return model.upper()
    known = ", ".join(settings.models) or "none configured"
    raise InvalidArgument("model", f"{model!r} is neither a configured alias ({known}) nor a model id.")


def report_json(report: DeliveryReport) -> dict[str, Any]:
    return {
        "since": report.since.isoformat(),
        "until": report.until.isoformat(),
        "models": [asdict(figures) for figures in report.models],
    }


def report_text(report: DeliveryReport) -> str:
    period = f"{report.since:%Y-%m-%d} to {report.until:%Y-%m-%d}"
    if not report.models:
        return f"No syncs ran from {period}."
    lines = [f"Delivery figures, {period}:"]
    for figures in report.models:
        lines += ["", f"{figures.model_name} ({figures.model_id})", *_figure_lines(figures)]
    return "\n".join(lines)


def _figure_lines(f: ModelFigures) -> list[str]:
    from alm_bot.stats import format_duration

    restore = format_duration(f.time_to_restore_seconds)
    open_failures = f", {f.not_restored} still failing" if f.not_restored else ""
    return [
        f"  deployment frequency  {f.deployments_per_week:.1f}/week ({f.succeeded} succeeded)",
        f"  lead time (median)    {format_duration(f.lead_time_seconds)}",
        f"  change failure rate   {f.change_failure_rate:.0%} ({f.failed} of {f.deployments})",
        f"  time to restore       {restore} ({f.restored} restored{open_failures})",
    ]
