"""Recording what Anaplan finished: a sync's outcome, a plan's change summary, a comparison someone asked for.

The watcher calls `record_task_result` inside the transaction that marks the tracked task finished,
so the outcome, its audit event and its notices commit together, exactly once.
"""

from __future__ import annotations

from typing import Any

from alm_bot.directory import ModelDirectory
from alm_bot.notify import CARD, user_destination
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.store import TrackedTask, Transaction

__all__ = ["Recording"]


class Recording:
    """Turns a finished tracked task into request state, audit events and notices."""

    def __init__(self, lifecycle: Lifecycle, directory: ModelDirectory) -> None:
        self.lifecycle = lifecycle
        self.directory = directory

    async def record_task_result(self, tx: Transaction, task: TrackedTask, result: dict[str, Any]) -> None:
        """Record a finished Anaplan task; the watcher calls this inside the transaction that finishes it."""
        if task.kind == "sync" and task.request_id:
            await self._record_sync_result(tx, task.request_id, result)
        elif task.kind == "comparison_summary" and task.request_id:
            await self._record_plan_summary(tx, task.request_id, result)
        if task.notify:
            payload = {
                "kind": task.kind,
                "model_id": task.model_id,
                "task_id": task.anaplan_task_id,
                "result": result,
                "context": task.context or {},
            }
            await tx.enqueue("comparison_ready", task.notify, payload, f"comparison_ready:{task.id}")

    async def _record_sync_result(self, tx: Transaction, request_id: str, result: dict[str, Any]) -> None:
        state = "succeeded" if result.get("successful") else "failed"
        request = await tx.transition(request_id, {"executing"}, state, result=result)
        if request is None:
            return  # someone already recorded the outcome
        await tx.audit(
            f"sync_{state}", None, request_id=request.id, model_id=request.target_model_id, detail=result
        )
        for destination in (CARD, user_destination(request.requester_id)):
            await self.lifecycle.enqueue(tx, request, "task_finished", destination)
        await self.lifecycle.enqueue(tx, request, "request_updated", CARD)
        self.directory.invalidate()

    async def _record_plan_summary(self, tx: Transaction, request_id: str, result: dict[str, Any]) -> None:
        request = await tx.get_request(request_id)
        if request is None:
            return
        summary = {"summary": result.get("summary"), "summary_error": _summary_error(result)}
        updated = await tx.update_request(request.id, plan=request.plan | summary) or request
        await self.lifecycle.enqueue(tx, updated, "request_updated", CARD, moment="summary")


def _summary_error(result: dict[str, Any]) -> str | None:
    if result.get("successful"):
        return result.get("summary_error")
    return result.get("message") or result.get("title") or "Anaplan could not compute the change summary."
