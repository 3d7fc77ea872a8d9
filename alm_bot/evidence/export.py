"""The audit export: one record per request with its whole story, or the raw events — JSON Lines or CSV.

A request record answers an auditor's questions without reading events: who asked, who approved
and when (approver ≠ requester), whether a decision was break-glass, the plan digest at approval
and before execution and whether they match, the Anaplan task ids, how it ended and whether the
sync was verified — and carries its events (with their hashes) for the detail. Raw events are the
rows as stored, ``prev_hash`` and ``hash`` included, so a copy can be checked on its own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

from alm_bot.evidence.story import approvals, task_ids
from alm_bot.records import StatusPlan, SyncPlan
from alm_bot.store import ApprovalRequest, AuditEvent

__all__ = ["EVENT_COLUMNS", "REQUEST_COLUMNS", "event_record", "render", "request_record"]

Format = Literal["jsonl", "csv"]

EVENT_COLUMNS: Final = (
    "id",
    "at",
    "request_id",
    "model_id",
    "actor_id",
    "actor_name",
    "origin",
    "action",
    "detail",
    "prev_hash",
    "hash",
)
REQUEST_COLUMNS: Final = (
    "id",
    "operation",
    "state",
    "source",
    "target",
    "target_model_id",
    "source_revision",
    "target_revision",
    "requester_id",
    "requester",
    "created_at",
    "approved_by",
    "approved_at",
    "approver_is_requester",
    "break_glass",
    "approval_digest",
    "execution_digest",
    "approval_covers_execution",
    "anaplan_task_ids",
    "finished_at",
    "verified",
    "story",
)


_ENDINGS: Final = frozenset({"sync_succeeded", "sync_failed", "status_changed", "failed", "start_unproven"})


def _digest(event: AuditEvent) -> str | None:
    recorded = event.detail.get("plan_digest")
    return str(recorded.get("digest")) if isinstance(recorded, dict) else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def event_record(event: AuditEvent) -> dict[str, Any]:
    """One audit event as stored (hashes included)."""
    return {"record": "event", **event.model_dump(mode="json")}


def request_record(request: ApprovalRequest, events: Sequence[AuditEvent]) -> dict[str, Any]:
    """A request and its story (``events``: all of its audit events, oldest first)."""
    plan = request.plan
    sync = plan if isinstance(plan, SyncPlan) else None
    approved = approvals(events)
    approved_digests = {d for e in approved if (d := _digest(e)) is not None}
    executed = [d for e in events if e.action == "executing" and (d := _digest(e)) is not None]
    at_approval = sorted(approved_digests)[0] if len(approved_digests) == 1 else None
    at_execution = executed[-1] if executed else None
    verification = request.result.verification if request.result else None
    finished = [e.at for e in events if e.action in _ENDINGS]
    return {
        "record": "request",
        "id": request.id,
        "operation": request.operation,
        "state": request.state,
        "source": sync.source.name if sync else None,
        "target": sync.target.model.name if sync else _status_model(plan),
        "target_model_id": request.target_model_id,
        "source_revision": sync.source_revision.name if sync else None,
        "target_revision": sync.target.revision.name if sync else None,
        "requester_id": request.requester_id,
        "requester": request.requester_name,
        "created_at": _iso(request.created_at),
        "approved_by": [e.actor_name or e.actor_id for e in approved],
        "approved_at": [_iso(e.at) for e in approved],
        "approver_is_requester": any(e.actor_id == request.requester_id for e in approved),
        "break_glass": any(bool(e.detail.get("break_glass")) for e in events),
        "approval_digest": at_approval,
        "execution_digest": at_execution,
        # Every approval covered the plan that ran (None: nothing approved, or nothing ran).
        "approval_covers_execution": approved_digests == {at_execution}
        if approved_digests and at_execution
        else None,
        "anaplan_task_ids": task_ids(request, events),
        "finished_at": _iso(finished[-1]) if finished else None,
        "verified": verification.verified if verification else None,
        "verification": verification.model_dump(mode="json", exclude_none=True) if verification else None,
        "result": request.result.model_dump(mode="json", exclude_none=True, exclude={"verification"})
        if request.result
        else None,
        "story": [_step(event) for event in events],
        "events": [event.model_dump(mode="json") for event in events],
    }


def _status_model(plan: object) -> str | None:
    return plan.model.name if isinstance(plan, StatusPlan) else None


def _step(event: AuditEvent) -> str:
    """``2026-12-02T09:14:03+00:00 approved by Grace`` — one line of a request's story."""
    by = f" by {event.actor_name or event.actor_id}" if event.actor_id or event.actor_name else ""
    return f"{event.at.isoformat(timespec='seconds')} {event.action}{by}"


def render(records: Sequence[dict[str, Any]], format: Format, columns: Sequence[str]) -> str:
    """JSON Lines (every field), or CSV with ``columns`` (lists joined by ``;``, objects as JSON)."""
    if format == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in records)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow([_cell(record.get(column)) for column in columns])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str | None) for v in value):
        return ";".join(v or "" for v in value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)
