"""``alm-bot windows [MODEL] [--json]``: the change windows, open now or next, from the configuration only.

With MODEL (an alias from ``[models.*]`` or a model id) it also says whether that model may change
now and, if not, from when. It reads neither the database nor Anaplan.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alm_bot.operations.scheduling import WindowReport
    from alm_bot.windows import WindowState

    Subparsers = argparse._SubParsersAction[Any]

__all__ = ["add_windows_command", "report_json", "report_text"]


def add_windows_command(sub: Subparsers) -> None:
    p = sub.add_parser("windows", help="change windows: open now, next opening, whether a model may change")
    p.add_argument("model", nargs="?", help="a model alias from the configuration, or a model id")
    p.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_run_windows)


def _run_windows(args: argparse.Namespace) -> int:
    from alm_bot.config import load_settings
    from alm_bot.operations import utc_now
    from alm_bot.operations.scheduling import window_report

    report = window_report(load_settings(), args.model, utc_now())
    print(json.dumps(report_json(report), indent=2) if args.as_json else report_text(report))
    return 0


def report_json(report: WindowReport) -> dict[str, Any]:
    decision = report.decision
    verdict = None
    if decision is not None:
        runs_at = decision.runs_at.isoformat() if decision.runs_at else None
        verdict = {"may_run": decision.may_run, "reason": decision.reason, "runs_at": runs_at}
    return {
        "now": report.now.isoformat(timespec="seconds"),
        "model": report.model,
        "decision": verdict,
        "windows": [_state_json(state) for state in report.states],
    }


def _state_json(state: WindowState) -> dict[str, Any]:
    window = state.window
    return {
        "name": window.label,
        "kind": window.kind,
        "models": sorted(window.models),
        "schedule": window.schedule,
        "open_until": state.current.closes.isoformat() if state.current else None,
        "next_opens": state.next.opens.isoformat() if state.next else None,
    }


def report_text(report: WindowReport) -> str:
    from alm_bot.windows import local_label

    lines = []
    if report.decision is not None:
        decision = report.decision
        label = decision.runs_at_label(report.now)
        verdict = (
            "may change now" if decision.may_run else f"may change from {label or 'no time within a year'}"
        )
        lines.append(f"{report.model}: {verdict} ({decision.reason})")
    if not report.states:
        lines.append("No change window applies: changes may run at any time.")
    for state in report.states:
        window = state.window
        now = (
            "open until " + local_label(state.current.closes, window.zone, report.now)
            if state.current
            else "closed"
        )
        upcoming = local_label(state.next.opens, window.zone, report.now) if state.next else "never again"
        models = ", ".join(sorted(window.models))
        lines.append(
            f"{window.label} [{window.kind}, {models}] {window.schedule}: {now}; next opens {upcoming}"
        )
    return "\n".join(lines)
