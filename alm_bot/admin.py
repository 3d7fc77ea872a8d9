"""The operator's commands: ``alm-bot requests …`` (break-glass), ``alm-bot db upgrade``, ``alm-bot check``.

``requests`` goes through the same `Operations` and policy as Slack and MCP: ``--as`` names the
person acting, who must be a configured approver to decide. ``--as`` is a claim nobody verified,
so beside it the CLI records who really ran it (OS user and host), and a decision taken here is
break-glass: it needs a reason. ``requests list``, ``show`` and ``notes`` (release notes in
Markdown) read the database only (no Anaplan credentials needed). A deployment pipeline can call
``alm-bot requests sync SOURCE TARGET --as U… --json`` and read the request id (or the started
task) from the output; ``requests release`` asks for a release (`alm_bot.release_admin`). Every
subcommand prints a readable table, or JSON with ``--json``.
"""

from __future__ import annotations

import getpass
import json
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import anyio
from sqlalchemy.engine import make_url

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.errors import AlmBotError, ConfigError, InvalidArgument, RequestNotFound
from alm_bot.evidence.notes import release_notes
from alm_bot.operations import Operations
from alm_bot.operations.approvals import stored_progress
from alm_bot.policy_cli import approvals_view
from alm_bot.release_admin import drop_targets, request_release, targets_table
from alm_bot.services import open_services
from alm_bot.store import REQUEST_STATES, ApprovalRequest, Store

__all__ = ["RequestsCommand", "run_check", "run_db_upgrade", "run_requests"]

_LIST_COLUMNS = ("id", "state", "operation", "target", "requester", "created_at")


@dataclass(frozen=True)
class RequestsCommand:
    """One ``alm-bot requests`` invocation, as parsed by the CLI."""

    action: str  # list | show | notes | approve | reject | cancel | override | sync | release | drop
    request_id: str | None = None
    actor_id: str | None = None
    reason: str | None = None
    source: str | None = None
    target: str | None = None
    revision: str | None = None
    states: Sequence[str] = ()
    as_json: bool = False
    targets: Sequence[str] = ()  # release: the targets (none: SOURCE names a group); drop: to drop
    confirm_data_loss: bool = False
    override_risk: bool = False  # approve past block_on_risk; ``reason`` is the override's reason


def request_view(request: ApprovalRequest) -> dict[str, Any]:
    """A request as plain JSON-ready data (what ``--json`` prints)."""
    plan = request.plan
    sync = plan if plan.operation == "sync" else None
    named = plan.target.model.name if plan.operation == "sync" else plan.model.name
    target = named or request.target_model_id
    return {
        "id": request.id,
        "state": request.state,
        "operation": request.operation,
        "target": target,
        "target_model_id": request.target_model_id,
        "source": sync.source.name if sync else None,
        "revision": sync.source_revision.name if sync else None,
        "requester": request.requester_name,
        "requester_id": request.requester_id,
        "origin": request.origin,
        "decided_by": request.decided_by_name,
        "reason": request.reason,
        "anaplan_task_id": request.anaplan_task_id,
        # The data-loss radar's verdict: null until the summary (and a protected target's report) is read.
        "risk": sync.target.risk.model_dump(mode="json") if sync and sync.target.risk else None,
        "result": request.result.model_dump(mode="json", exclude_none=True) if request.result else None,
        "created_at": _iso(request.created_at),
        "expires_at": _iso(request.expires_at),
        "decided_at": _iso(request.decided_at),
        "runs_at": _iso(request.runs_at),
        "window": request.window.model_dump(mode="json", exclude_none=True) if request.window else None,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(no requests)"
    cells = [[str(row.get(c) or "") for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)) for r in cells]
    return "\n".join(line.rstrip() for line in lines)


def _details(view: dict[str, Any]) -> str:
    shown = {**view, "risk": _risk_line(view["risk"])} if view.get("risk") else view
    return "\n".join(f"{key:>16}: {value}" for key, value in shown.items() if value not in (None, "", {}))


def _risk_line(risk: dict[str, Any]) -> str:
    """``data-loss: Line item X in M is deleted: its data is lost (and 2 more)``."""
    findings = risk["findings"]
    more = len(findings) - 1 + risk.get("omitted", 0)
    first = f": {findings[0]['reason']}" if findings else ""
    return f"{risk['verdict']}{first}" + (f" (and {more} more)" if more > 0 else "")


def operator() -> str:
    """Who really runs this command: the OS user and host (``ada@build-7``)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no user name for this uid (some containers)
        user = "unknown-user"
    return f"{user}@{socket.gethostname()}"


def _actor(command: RequestsCommand) -> Actor:
    """The claimed identity (``--as``), with who really ran the command beside it."""
    claimed = (command.actor_id or "").strip()
    if not claimed:
        raise ConfigError(
            [f"requests {command.action}: --as USER is required (a Slack user id, e.g. U0123ABCD)"]
        )
    return Actor(claimed, claimed, "cli", run_by=operator())


def _states(command: RequestsCommand) -> list[str] | None:
    unknown = [state for state in command.states if state not in REQUEST_STATES]
    if unknown:
        raise InvalidArgument(
            "--state",
            f"--state {unknown[0]!r} is not a request state; choose from: {', '.join(REQUEST_STATES)}",
        )
    return list(command.states) or None


async def _read(settings: Settings, command: RequestsCommand) -> str:
    """``requests list`` / ``show``: the database only — no Anaplan login, no migrations."""
    states = _states(command)
    missing = missing_sqlite_file(settings)
    if missing is not None:
        raise AlmBotError(f"{missing}: nothing to show yet")
    store = Store(settings.database_url)
    try:
        if await store.schema_revision() is None:
            raise AlmBotError(f"the database {database_name(settings)} has no alm-bot tables yet")
        if command.action == "list":
            views = [request_view(r) for r in await store.list_requests(states=states)]
            return json.dumps(views, indent=2) if command.as_json else _table(views, _LIST_COLUMNS)
        request_id = (command.request_id or "").strip().upper()
        request = await store.get_request(request_id)
        if request is None:
            raise RequestNotFound(command.request_id or "")
        if command.action == "notes":
            events = list(reversed(await store.list_audit(request_id=request.id, limit=10_000)))
            notes = release_notes(request, events, await store.list_runs(request.id))
            return json.dumps({"id": request.id, "notes": notes}, indent=2) if command.as_json else notes
        view = request_view(request) | await _approvals(store, settings, request)
        return json.dumps(view, indent=2) if command.as_json else _details(view)
    finally:
        await store.dispose()


async def _approvals(store: Store, settings: Settings, request: ApprovalRequest) -> dict[str, Any]:
    """The approvals counted under the request's policy (only requests that needed approval)."""
    return approvals_view(await stored_progress(store, settings, request)) if request.plan.protected else {}


def database_name(settings: Settings) -> str:
    """The database URL as it may be shown: without its password."""
    return make_url(settings.database_url.get_secret_value()).render_as_string(hide_password=True)


def missing_sqlite_file(settings: Settings) -> str | None:
    """``no database at PATH yet …`` when the SQLite file does not exist (opening it would create it)."""
    url = make_url(settings.database_url.get_secret_value())
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    if Path(url.database).exists():
        return None
    return f"no database at {url.database} yet (alm-bot serve or alm-bot db upgrade creates it)"


async def _requests(settings: Settings, command: RequestsCommand) -> str:
    if command.action in ("list", "show", "notes"):
        return await _read(settings, command)
    async with open_services(settings) as services:
        ops = services.ops
        result: dict[str, Any]
        if command.action in ("release", "drop"):
            return await _release(ops, command)
        if command.action == "sync":
            outcome = await ops.requests.request_sync(
                command.source or "", command.target or "", command.revision, actor=_actor(command)
            )
            result = request_view(outcome.request) | {
                "status": outcome.status,
                "approvers": outcome.approvers,
            }
        else:
            request_id = command.request_id or ""
            if command.action == "cancel":
                request = await ops.requests.cancel(request_id, actor=_actor(command))
            elif command.action == "override":
                reason = command.reason or ""
                request = await ops.requests.override(request_id, actor=_actor(command), reason=reason)
            else:
                approve = command.action == "approve"
                request = await ops.requests.decide(
                    request_id,
                    actor=_actor(command),
                    approve=approve,
                    reason=command.reason,
                    confirmed_risk=command.confirm_data_loss,
                    override_risk_reason=command.reason if command.override_risk else None,
                )
            result = request_view(request) | await _approvals(services.store, settings, request)
        return json.dumps(result, indent=2) if command.as_json else _details(result)


async def _release(ops: Operations, command: RequestsCommand) -> str:
    if command.action == "release":
        outcome, targets = await request_release(
            ops, command.source or "", command.targets, command.revision, _actor(command)
        )
    else:
        outcome, targets = await drop_targets(ops, command.request_id or "", command.targets, _actor(command))
    result = request_view(outcome.request) | {"status": outcome.status, "approvers": outcome.approvers}
    if command.as_json:
        return json.dumps(result | {"targets": targets}, indent=2)
    return _details(result) + "\n" + targets_table(targets)


def run_requests(settings: Settings, command: RequestsCommand) -> int:
    """``alm-bot requests …``: print the outcome; refusals raise `AlmBotError` (exit 1 in the CLI)."""
    print(anyio.run(_requests, settings, command))
    return 0


async def _upgrade(settings: Settings) -> None:
    from alm_bot.store import Store

    store = Store(settings.database_url)
    try:
        await store.upgrade()
        print(f"database at schema revision {await store.schema_revision()}")
    finally:
        await store.dispose()


def run_db_upgrade(settings: Settings) -> int:
    """``alm-bot db upgrade``: apply the shipped migrations."""
    anyio.run(_upgrade, settings)
    return 0


def run_check(load: Any) -> int:
    """``alm-bot check``: a table of what works and what does not; exit 1 on any problem."""
    from alm_bot.checks import CheckRow, check_rows, check_table

    try:
        settings = load()
    except ConfigError as exc:
        print(check_table([CheckRow("configuration", False, problem) for problem in exc.problems]))
        return 1
    rows = anyio.run(check_rows, settings)
    print(check_table(rows))
    return 0 if all(row.ok for row in rows) else 1
