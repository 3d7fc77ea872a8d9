"""``alm-bot audit export|verify``: the evidence an auditor asks for, from the database only.

- ``export [--since] [--until] [--model] [--format jsonl|csv] [--events]``: one record per request
  with its whole story (`alm_bot.evidence.export`), for the requests with an event in the period;
  ``--events`` writes the raw events of the period instead, hashes included.
- ``verify``: walks the audit hash chain (`alm_bot.store.chain`); exit 0 when intact, exit 1 naming
  the first event that was edited, removed or reordered.

Neither needs an Anaplan login, and neither writes anything.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alm_bot.config import Settings
    from alm_bot.store import Store
    from alm_bot.store.chain import ChainProblem, ChainReport

    Subparsers = argparse._SubParsersAction[Any]

__all__ = ["add_audit_command", "problem_text"]


def add_audit_command(sub: Subparsers) -> None:
    p = sub.add_parser("audit", help="export the audit log, or verify its hash chain")
    actions = p.add_subparsers(dest="action", required=True)
    export = actions.add_parser("export", help="one record per request with its whole story (or raw events)")
    export.add_argument("--since", help="from this moment: 2026-12-01, an ISO time, or a period back (90d)")
    export.add_argument("--until", help="before this moment (same forms as --since)")
    export.add_argument("--model", help="only this target model (alias from the configuration, or model id)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="jsonl (default) or csv")
    export.add_argument("--events", action="store_true", help="the raw audit events instead of requests")
    actions.add_parser("verify", help="walk the hash chain; exit 1 naming the first event tampered with")
    p.set_defaults(func=_run_audit)


def _run_audit(args: argparse.Namespace) -> int:
    import anyio

    from alm_bot.config import load_settings

    settings = load_settings()
    if args.action == "verify":
        report = anyio.run(_with_store, settings, _verify)
        print(verify_text(report))
        return 0 if report.intact else 1
    since, until = _moment(args.since, "--since"), _moment(args.until, "--until")
    model_id = _model_id(settings, args.model)

    async def export(store: Store) -> str:
        return await _export(store, since, until, model_id, args.format, args.events)

    sys.stdout.write(anyio.run(_with_store, settings, export))
    return 0


async def _with_store(settings: Settings, work: Any) -> Any:
    from alm_bot.admin import database_name, missing_sqlite_file
    from alm_bot.errors import AlmBotError
    from alm_bot.store import Store

    missing = missing_sqlite_file(settings)
    if missing is not None:
        raise AlmBotError(f"{missing}: no audit log yet")
    store = Store(settings.database_url)
    try:
        if await store.schema_revision() is None:
            raise AlmBotError(f"the database {database_name(settings)} has no alm-bot tables yet")
        return await work(store)
    finally:
        await store.dispose()


async def _verify(store: Store) -> ChainReport:
    return await store.verify_audit()


async def _export(
    store: Store,
    since: datetime | None,
    until: datetime | None,
    model_id: str | None,
    format: Any,
    raw: bool,
) -> str:
    from alm_bot.evidence.export import EVENT_COLUMNS, REQUEST_COLUMNS, event_record, render, request_record

    events = await store.audit_between(since, until, model_id)
    if raw:
        return render([event_record(e) for e in events], format, EVENT_COLUMNS)
    records = []
    for request_id in dict.fromkeys(e.request_id for e in events if e.request_id):
        request = await store.get_request(request_id)
        if request is None:
            continue  # an event about a request that never existed (a refused attempt): in --events
        story = list(reversed(await store.list_audit(request_id=request_id, limit=100_000)))
        records.append(request_record(request, story))
    return render(records, format, REQUEST_COLUMNS)


def _moment(text: str | None, option: str) -> datetime | None:
    """An ISO date or time (UTC unless it says otherwise), or a period back from now (``90d``)."""
    from alm_bot.errors import InvalidArgument
    from alm_bot.stats import parse_period

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.now(UTC) - parse_period(text)
        except InvalidArgument:
            raise InvalidArgument(
                option, f"{option} {text!r} is neither a date (2026-12-01), an ISO time nor a period (90d)."
            ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _model_id(settings: Settings, model: str | None) -> str | None:
    from alm_bot.stats_cli import _model_id as configured_model_id

    return configured_model_id(settings, model)


def verify_text(report: ChainReport) -> str:
    if report.problem is None:
        return f"audit log intact: {report.events} event(s), head {report.head_hash}"
    return f"audit log broken: {problem_text(report.problem)} ({report.events} event(s) before it intact)"


def problem_text(problem: ChainProblem) -> str:
    """The first break, in words."""
    after = f" after event {problem.after_id}" if problem.after_id is not None else " at the start"
    if problem.kind == "edited":
        return f"event {problem.event_id} was edited (its content no longer matches its hash)"
    if problem.kind == "removed":
        return f"an event was removed{after}: event {problem.event_id} follows one that is missing"
    if problem.kind == "reordered":
        return (
            f"event {problem.event_id} is out of order: it follows event {problem.predecessor_id}, "
            f"not the event{after}"
        )
    last = f"event {problem.event_id}" if problem.event_id is not None else "the start"
    return (
        f"the newest events were removed: the chain recorded {problem.head_length} event(s), "
        f"the log ends at {last}"
    )
