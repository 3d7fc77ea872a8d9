"""The operator's commands: ``alm-bot requests …`` (break-glass), ``alm-bot db upgrade``, ``alm-bot check``.

``requests`` goes through the same `Operations` and policy as Slack and MCP: ``--as`` names the
person acting, who must be a configured approver to decide. A deployment pipeline can call
``alm-bot requests sync SOURCE TARGET --as U… --json`` and read the request id (or the started
task) from the output. Every subcommand prints a readable table, or JSON with ``--json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import anyio

from alm_bot.actor import Actor
from alm_bot.config import Settings
from alm_bot.errors import AlmBotError, ConfigError
from alm_bot.services import open_services
from alm_bot.store import ApprovalRequest

__all__ = ["RequestsCommand", "run_check", "run_db_upgrade", "run_requests"]

_LIST_COLUMNS = ("id", "state", "operation", "target", "requester", "created_at")


@dataclass(frozen=True)
class RequestsCommand:
    """One ``alm-bot requests`` invocation, as parsed by the CLI."""

    action: str  # list | show | approve | reject | cancel | sync
    request_id: str | None = None
    actor_id: str | None = None
    reason: str | None = None
    source: str | None = None
    target: str | None = None
    revision: str | None = None
    states: Sequence[str] = ()
    as_json: bool = False


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
        "result": request.result.model_dump(mode="json", exclude_none=True) if request.result else None,
        "created_at": _iso(request.created_at),
        "expires_at": _iso(request.expires_at),
        "decided_at": _iso(request.decided_at),
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
    return "\n".join(f"{key:>16}: {value}" for key, value in view.items() if value not in (None, "", {}))


def _actor(command: RequestsCommand) -> Actor:
    if not command.actor_id:
        raise ConfigError(
            [f"requests {command.action}: --as USER is required (a Slack user id, e.g. U0123ABCD)"]
        )
    return Actor(command.actor_id, command.actor_id, "cli")


async def _requests(settings: Settings, command: RequestsCommand) -> str:
    async with open_services(settings) as services:
        ops = services.ops
        if command.action == "list":
            requests = await ops.list_requests(states=command.states or None)
            views = [request_view(r) for r in requests]
            return json.dumps(views, indent=2) if command.as_json else _table(views, _LIST_COLUMNS)
        result: dict[str, Any]
        if command.action == "sync":
            outcome = await ops.request_sync(
                command.source or "", command.target or "", command.revision, actor=_actor(command)
            )
            result = request_view(outcome.request) | {
                "status": outcome.status,
                "approvers": outcome.approvers,
            }
        else:
            request_id = command.request_id or ""
            if command.action == "show":
                request = await ops.get_request(request_id)
            elif command.action == "cancel":
                request = await ops.cancel(request_id, actor=_actor(command))
            else:
                approve = command.action == "approve"
                request = await ops.decide(
                    request_id, actor=_actor(command), approve=approve, reason=command.reason
                )
            result = request_view(request)
        return json.dumps(result, indent=2) if command.as_json else _details(result)


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


async def _checks(settings: Settings) -> list[tuple[str, bool, str]]:
    results: list[tuple[str, bool, str]] = [("configuration", True, "valid")]
    from alm_bot.store import Store

    store = Store(settings.database_url)
    try:
        await store.ping()
        results.append(
            ("database", True, f"{store.dialect}, schema {await store.schema_revision() or 'empty'}")
        )
    except ConnectionError as exc:
        results.append(("database", False, str(exc)))
    finally:
        await store.dispose()
    results.append(await _check_anaplan(settings))
    results.append(_check_approvals(settings))
    return results


async def _check_anaplan(settings: Settings) -> tuple[str, bool, str]:
    if not settings.anaplan_credentials_present:
        return (
            "anaplan login",
            False,
            "no credentials: set ANAPLAN_USERNAME/ANAPLAN_PASSWORD or a certificate",
        )
    from alm_bot.services import anaplan_client

    try:
        async with anaplan_client(settings) as client:
            await client.login()
    except AlmBotError as exc:
        return ("anaplan login", False, str(exc))
    return ("anaplan login", True, f"logged in at {settings.anaplan_auth_url}")


def _check_approvals(settings: Settings) -> tuple[str, bool, str]:
    approval = settings.approval
    if not approval.configured:
        return ("approvers", False, "none configured: protected changes will be refused")
    who = len(approval.approvers) + len(approval.approver_groups)
    return ("approvers", True, f"{who} approver(s)/group(s), cards in {approval.channel}")


def run_check(load: Any) -> int:
    """``alm-bot check``: configuration, database, Anaplan login, approvers — a table; exit 1 on problems."""
    try:
        settings = load()
    except ConfigError as exc:
        print(_check_table([("configuration", False, "; ".join(exc.problems))]))
        return 1
    results = anyio.run(_checks, settings)
    print(_check_table(results))
    return 0 if all(ok for _, ok, _ in results) else 1


def _check_table(results: list[tuple[str, bool, str]]) -> str:
    width = max(len(name) for name, _, _ in results)
    return "\n".join(
        f"{'ok  ' if ok else 'FAIL'}  {name.ljust(width)}  {detail}" for name, ok, detail in results
    )
