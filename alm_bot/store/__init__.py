"""alm-bot's stored state: approval requests, tracked Anaplan tasks, the outbox, the audit log.

::

    store = Store(settings.database_url.get_secret_value())   # no I/O
    await store.upgrade()                                        # migrations to head, concurrency-safe
    async with store.transaction() as tx:                        # one transaction
        request = await tx.insert_request(ApprovalRequest(...))
        await tx.transition(request.id, [REQUESTED], PENDING, actor=actor)
        await tx.enqueue(APPROVALS, ApprovalNeeded(request_id=request.id), dedupe_key=f"card:{request.id}")

Modules: ``states`` (the state machine), ``tables`` (SQLModel tables), ``engine`` (SQLite/PostgreSQL
engine), ``migrate`` (Alembic in code), ``transaction`` (``Transaction``: the statements),
``database`` (connection and transactions), ``queues`` (leased work), ``repository`` (``Store``),
``replays`` (signed requests already seen, for the Slack edge), ``attempts`` (outbox deliveries of
unknown outcome), ``runs`` (the target runs of sync requests: a release's progress).
"""

# Register their tables in the shared metadata (the migrations and the schema test see every table).
from alm_bot.store import approvals as _approvals  # noqa: F401
from alm_bot.store import oauth_grants as _oauth_grants  # noqa: F401
from alm_bot.store.replays import ReplayGuard, SeenRequest
from alm_bot.store.repository import Store, Transaction
from alm_bot.store.runs import ACTIVE_RUN_STATES, FINAL_RUN_STATES, RunState, TargetRun
from alm_bot.store.states import (
    APPROVED,
    CANCELLED,
    EXECUTING,
    EXPIRED,
    FAILED,
    OPERATIONS,
    PENDING,
    REJECTED,
    REQUEST_STATES,
    REQUESTED,
    SUCCEEDED,
    TASK_KINDS,
    TERMINAL_STATES,
    TRANSITIONS,
    Operation,
    RequestState,
    TaskKind,
    TaskState,
    check_transition,
)
from alm_bot.store.tables import (
    ApprovalRequest,
    AuditEvent,
    OutboxRow,
    TrackedTask,
    new_request_id,
    normalise_request_id,
    utcnow,
)

__all__ = [
    "ACTIVE_RUN_STATES",
    "APPROVED",
    "CANCELLED",
    "EXECUTING",
    "EXPIRED",
    "FAILED",
    "FINAL_RUN_STATES",
    "OPERATIONS",
    "PENDING",
    "REJECTED",
    "REQUESTED",
    "REQUEST_STATES",
    "SUCCEEDED",
    "TASK_KINDS",
    "TERMINAL_STATES",
    "TRANSITIONS",
    "ApprovalRequest",
    "AuditEvent",
    "Operation",
    "OutboxRow",
    "ReplayGuard",
    "RequestState",
    "RunState",
    "SeenRequest",
    "Store",
    "TargetRun",
    "TaskKind",
    "TaskState",
    "TrackedTask",
    "Transaction",
    "check_transition",
    "new_request_id",
    "normalise_request_id",
    "utcnow",
]
