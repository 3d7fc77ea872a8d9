"""The request state machine and the other fixed vocabularies of the stored rows.

::

    requested → pending ─┬─ approved ─┬─ executing → succeeded | failed
                         │            └─ scheduled → executing …   (outside a change window)
                         ├─ rejected
                         ├─ expired
                         └─ cancelled            (unprotected target: requested → executing directly)

Beyond the drawing, some edges exist because work can fail or be withdrawn before it runs:
``requested → failed`` (planning failed, e.g. the comparison summary), ``requested → cancelled``,
``approved → failed`` (the plan went stale or Anaplan refused to start the sync), and for a
``scheduled`` request ``→ failed`` (stale at the window's opening) and ``→ cancelled`` (withdrawn while
it waits). An unprotected change asked for while its change window is closed goes ``requested →
scheduled``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Final, Literal, get_args

from alm_bot.request_states import REQUEST_STATES, RequestState

__all__ = [
    "APPROVED",
    "CANCELLED",
    "EXECUTING",
    "EXPIRED",
    "FAILED",
    "OPERATIONS",
    "PENDING",
    "REJECTED",
    "REQUESTED",
    "REQUEST_STATES",
    "SCHEDULED",
    "SUCCEEDED",
    "TASK_KINDS",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "Operation",
    "RequestState",
    "TaskKind",
    "TaskState",
    "check_transition",
]


REQUESTED: Final = "requested"
PENDING: Final = "pending"
APPROVED: Final = "approved"
SCHEDULED: Final = "scheduled"
EXECUTING: Final = "executing"
SUCCEEDED: Final = "succeeded"
FAILED: Final = "failed"
REJECTED: Final = "rejected"
EXPIRED: Final = "expired"
CANCELLED: Final = "cancelled"

TRANSITIONS: Final[Mapping[RequestState, frozenset[RequestState]]] = {
    "requested": frozenset({"pending", "executing", "scheduled", "failed", "cancelled"}),
    "pending": frozenset({"approved", "rejected", "expired", "cancelled"}),
    "approved": frozenset({"executing", "scheduled", "failed"}),
    "scheduled": frozenset({"executing", "failed", "cancelled"}),
    "executing": frozenset({"succeeded", "failed"}),
    "succeeded": frozenset(),
    "failed": frozenset(),
    "rejected": frozenset(),
    "expired": frozenset(),
    "cancelled": frozenset(),
}
TERMINAL_STATES: Final = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
_EDGES: Final = frozenset((start, end) for start, targets in TRANSITIONS.items() for end in targets)

Operation = Literal["sync", "change_status"]
OPERATIONS: Final[tuple[Operation, ...]] = get_args(Operation)

TaskKind = Literal["sync", "comparison_report", "comparison_summary"]
TASK_KINDS: Final[tuple[TaskKind, ...]] = get_args(TaskKind)

TaskState = Literal["active", "finished"]


def check_transition(from_states: Collection[str], to_state: str) -> None:
    """Raise ``ValueError`` unless every ``from_states → to_state`` edge is in ``TRANSITIONS``.

    A refused edge is a programming error in the caller, never a runtime condition.
    """
    if to_state not in TRANSITIONS:
        raise ValueError(f"unknown request state {to_state!r}")
    if isinstance(from_states, str) or not from_states:
        raise ValueError("from_states must be a non-empty collection of states")
    for state in from_states:
        if (state, to_state) not in _EDGES:
            raise ValueError(f"a request cannot go from {state!r} to {to_state!r}")
