"""Reading a request's story from its audit events: its approvals and its Anaplan tasks.

Shared by the release notes and the export, so both tell the same story.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from alm_bot.store import ApprovalRequest, AuditEvent

__all__ = ["APPROVAL_ACTIONS", "approvals", "task_ids"]

APPROVAL_ACTIONS: Final = frozenset({"approval_counted", "approved"})
"""Audit actions that record a person's approval: one counted towards a policy, or the one that met it."""


def approvals(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    """The approval events, oldest first."""
    return [e for e in events if e.action in APPROVAL_ACTIONS]


def task_ids(request: ApprovalRequest, events: Iterable[AuditEvent]) -> list[str]:
    """The Anaplan task ids the story names (a started or adopted sync), and the request's own."""
    ids = [str(e.detail["task_id"]) for e in events if e.detail.get("task_id")]
    if request.anaplan_task_id:
        ids.append(request.anaplan_task_id)
    return list(dict.fromkeys(ids))
