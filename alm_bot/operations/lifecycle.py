"""The lifecycle: the one place a request changes state.

A transition is, inside one transaction: the compare-and-set in the store (a lost race changes
nothing), the audit event (every transition, ``executing`` included), and the notices that state
causes — from one table, `NOTICES`. After the commit the `Changes` event is published (the watcher
wakes to deliver, a waiting MCP tool re-reads). Everything else in the core that writes goes through
`Lifecycle.transaction()`, so every commit publishes.

::

    state       notices (destination)
    pending     approval_needed (approvals channel)
    approved    request_decided (requester), request_updated (card)
    scheduled   request_updated (card: "runs at Tue 22:00 Europe/London")
    rejected    request_decided (requester), request_updated (card)
    cancelled   request_updated (card)
    expired     request_expired (card), request_expired (requester)
    executing   — (the card is redrawn once the Anaplan task is recorded)
    succeeded   task_finished (card's thread, when an Anaplan task ran), task_finished (requester),
    failed        request_updated (card)

A sync request's targets move through their own small machine (``alm_bot.store.runs``) by
`Lifecycle.move_run`: compare-and-set, and — for a release of several targets — an audit event and
a ``target_finished`` reply in the card's thread once a target ends. A plain sync's one run moves in
the same transaction as the request, whose own audit event and notices tell the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Final, Literal

from alm_bot.actor import Actor
from alm_bot.changes import Changes
from alm_bot.errors import RequestNotPending
from alm_bot.notify import APPROVALS, CARD, user_destination
from alm_bot.policy import require_pending
from alm_bot.records import (
    ApprovalNeeded,
    NoticePayload,
    RequestDecided,
    RequestExpired,
    RequestUpdated,
    TargetFinished,
    TaskFinished,
)
from alm_bot.store import (
    FINAL_RUN_STATES,
    ApprovalRequest,
    RequestState,
    RunState,
    Store,
    TargetRun,
    Transaction,
)

__all__ = ["NOTICES", "Lifecycle"]

_REQUESTER: Final = "requester"
_THREAD: Final = "thread"  # the card, only when an Anaplan task ran (its outcome goes in the thread)
Audience = Literal["approvals", "card", "thread", "requester"]
_FINISHED: Final = (
    (TaskFinished, _THREAD),
    (TaskFinished, _REQUESTER),
    (RequestUpdated, CARD),
)

NOTICES: Final[Mapping[RequestState, tuple[tuple[type[Any], Audience], ...]]] = {
    "requested": (),
    "pending": ((ApprovalNeeded, APPROVALS),),
    "approved": ((RequestDecided, _REQUESTER), (RequestUpdated, CARD)),
    "scheduled": ((RequestUpdated, CARD),),
    "rejected": ((RequestDecided, _REQUESTER), (RequestUpdated, CARD)),
    "cancelled": ((RequestUpdated, CARD),),
    "expired": ((RequestExpired, CARD), (RequestExpired, _REQUESTER)),
    "executing": (),
    "succeeded": _FINISHED,
    "failed": _FINISHED,
}


class Lifecycle:
    """Performs transitions and writes notices; publishes a change after each commit."""

    def __init__(self, store: Store, clock: Callable[[], datetime], changes: Changes) -> None:
        self.store = store
        self.clock = clock
        self.changes = changes

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """A store transaction that publishes the change once it has committed."""
        async with self.store.transaction() as tx:
            yield tx
        self.changes.publish()

    async def transition(
        self,
        tx: Transaction,
        request_id: str,
        from_states: Collection[str],
        to_state: RequestState,
        *,
        actor: Actor | None = None,
        action: str | None = None,
        detail: Mapping[str, Any] | Callable[[ApprovalRequest], Mapping[str, Any]] | None = None,
        held_by: str | None = None,
        also: Sequence[tuple[NoticePayload, str]] = (),
        **fields: Any,
    ) -> ApprovalRequest | None:
        """Compare-and-set, audit (``action``, default the state) and notices; None if the race was lost.

        ``also``: notices (payload, audience) this particular step adds to those of `NOTICES`.
        ``detail`` may be a function of the moved row (e.g. the plan digest of exactly what moved).
        """
        moved = await tx.transition(request_id, from_states, to_state, held_by=held_by, **fields)
        if moved is None:
            return None
        said = detail(moved) if callable(detail) else detail
        await tx.audit(
            action or to_state, actor, request_id=moved.id, model_id=moved.target_model_id, detail=said
        )
        for notice, audience in NOTICES[to_state]:
            await self.enqueue(tx, moved, notice(request_id=moved.id), audience)
        for payload, extra_audience in also:
            await self.enqueue(tx, moved, payload, extra_audience)
        return moved

    async def move_run(
        self,
        tx: Transaction,
        request: ApprovalRequest,
        run: TargetRun,
        from_states: Collection[str],
        to_state: RunState,
        *,
        detail: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> TargetRun | None:
        """Compare-and-set one target run; a release's step is audited, and told once it ends."""
        moved = await tx.runs.move(run.id, from_states, to_state, **fields)
        if moved is None or not (request.plan.operation == "sync" and request.plan.is_release):
            return moved
        audit_detail = {"position": run.position, "wave": run.wave, **(detail or {})}
        await tx.audit(
            f"target_{to_state}",
            None,
            request_id=request.id,
            model_id=run.target_model_id,
            detail=audit_detail,
        )
        if to_state in FINAL_RUN_STATES and to_state != "skipped":
            notice = TargetFinished(request_id=request.id, position=run.position)
            await self.enqueue(tx, request, notice, _THREAD, moment=f"target:{run.position}")
        return moved

    async def move(
        self,
        request: ApprovalRequest,
        from_states: Collection[str],
        to_state: RequestState,
        **options: Any,
    ) -> ApprovalRequest:
        """`transition` in a transaction of its own; raise `RequestNotPending` if the race was lost."""
        async with self.transaction() as tx:
            moved = await self.transition(tx, request.id, from_states, to_state, **options)
            if moved is None:
                raise await self.not_pending(tx, request.id)
        return moved

    async def expire_due(self, now: datetime) -> list[ApprovalRequest]:
        """Pending requests whose time is up → expired, each with its audit event and notices."""
        async with self.transaction() as tx:
            expired = await tx.expire_due(now)
            for request in expired:
                detail = {"expires_at": request.expires_at.isoformat() if request.expires_at else None}
                await tx.audit("expired", None, request.id, request.target_model_id, detail)
                for notice, audience in NOTICES["expired"]:
                    await self.enqueue(tx, request, notice(request_id=request.id), audience)
        return expired

    async def enqueue(
        self,
        tx: Transaction,
        request: ApprovalRequest,
        payload: NoticePayload,
        audience: str,
        *,
        moment: str | None = None,
    ) -> None:
        """Write a notice about this request; the dedupe key makes a replayed step write nothing twice."""
        destination = self._destination(request, audience)
        if destination is None:
            return
        key = f"{payload.kind}:{destination}:{request.id}:{moment or request.state}"
        await tx.enqueue(destination, payload, key)

    def _destination(self, request: ApprovalRequest, audience: str) -> str | None:
        if audience == _THREAD:
            if request.anaplan_task_id is None:
                return None  # no task ran: no progress thread to end
            audience = CARD
        if audience == CARD and not request.plan.protected:
            return None  # only requests that needed approval have a card
        if audience == _REQUESTER:
            return user_destination(request.requester_id)  # the notifier knows who can get a DM
        return audience

    async def not_pending(self, tx: Transaction, request_id: str) -> RequestNotPending:
        """Why a compare-and-set lost: the request moved on meanwhile; say so in the policy's words."""
        current = await tx.get_request(request_id)
        if current is None:
            return RequestNotPending(f"Request {request_id} no longer exists.", state="unknown")
        try:
            require_pending(current)
        except RequestNotPending as lost:
            return lost
        return RequestNotPending(
            f"Request {request_id} changed meanwhile; look at it again.", state=current.state
        )
