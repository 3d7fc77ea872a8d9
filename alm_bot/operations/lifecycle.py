"""The request lifecycle's shared steps: notices, failing a request, and the words for a lost race.

Every state change is a compare-and-set in the store, written together with its audit event and the
outbox notices it causes, so double clicks and replicas cannot both win and nothing is lost. After a
commit, ``changes.publish()`` tells this process (the watcher's wake-up, waiting tools).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any

from alm_bot.changes import Changes
from alm_bot.errors import RequestNotPending
from alm_bot.notify import CARD, user_destination
from alm_bot.policy import require_pending
from alm_bot.store import ApprovalRequest, Store, Transaction

__all__ = ["Lifecycle"]


class Lifecycle:
    """Writes notices and final states; publishes a change after each commit."""

    def __init__(self, store: Store, clock: Callable[[], datetime], changes: Changes) -> None:
        self.store = store
        self.clock = clock
        self.changes = changes

    def published(self) -> None:
        """Something was committed: wake whoever waits in this process."""
        self.changes.publish()

    async def enqueue(
        self,
        tx: Transaction,
        request: ApprovalRequest,
        kind: str,
        destination: str,
        *,
        moment: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Write a notice about this request; the dedupe key makes a replayed step write nothing twice."""
        if destination == CARD and not request.plan.get("protected"):
            return  # only requests that needed approval have a card
        key = f"{kind}:{destination}:{request.id}:{moment or request.state}"
        await tx.enqueue(kind, destination, {"request_id": request.id, **(extra or {})}, key)

    async def fail(
        self, request: ApprovalRequest, from_states: Collection[str], message: str
    ) -> ApprovalRequest:
        """Move the request to failed with ``message``; raise `RequestNotPending` if it moved on."""
        async with self.store.transaction() as tx:
            failed = await tx.transition(
                request.id, from_states, "failed", result={"successful": False, "message": message}
            )
            if failed is None:
                raise await self.not_pending(tx, request.id)
            await tx.audit(
                "failed",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"message": message},
            )
            await self.enqueue(tx, failed, "task_finished", user_destination(failed.requester_id))
            await self.enqueue(tx, failed, "request_updated", CARD)
        self.published()
        return failed

    async def record_status_changed(self, request: ApprovalRequest) -> ApprovalRequest | None:
        """Executing → succeeded for a status change Anaplan made; None if someone recorded it already."""
        status = request.plan.get("status")
        result = {"successful": True, "message": f"{request.plan.get('model_name')} is now {status}."}
        async with self.store.transaction() as tx:
            done = await tx.transition(request.id, {"executing"}, "succeeded", result=result)
            if done is None:
                return None
            await tx.audit(
                "status_changed",
                None,
                request_id=done.id,
                model_id=done.target_model_id,
                detail={"status": status},
            )
            await self.enqueue(tx, done, "task_finished", user_destination(done.requester_id))
            await self.enqueue(tx, done, "request_updated", CARD)
        return done

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
