"""The ALM use cases that every front end calls: reads, revisions, comparisons, requests, decisions.

Front ends (Slack, MCP, CLI) parse what a person typed, call one method here with an `Actor`, and
render what comes back. The rules live here and in `policy`, once:

- models are named by alias, id or exact name (`ModelDirectory`);
- a sync into, or an online/offline change of, a protected model becomes a *pending request* that a
  second person must approve; anything else runs at once;
- every state change is a compare-and-set in the store, written together with its audit event and
  the outbox notices it causes, so double clicks and replicas cannot both win and nothing is lost;
- Anaplan tasks are started here and followed by the watcher; nothing here waits for a task.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from alm_bot.actor import Actor
from alm_bot.anaplan import (
    AnaplanClient,
    ModelRevision,
    PendingTask,
    Revision,
    SummaryReport,
    TaskSummary,
)
from alm_bot.anaplan.models import CompletedReportTask, CompletedSyncTask
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import (
    AlmBotError,
    AnaplanError,
    InvalidArgument,
    NothingToSync,
    RequestNotFound,
    RequestNotPending,
    StalePlan,
)
from alm_bot.notify import APPROVALS, CARD, user_destination
from alm_bot.policy import check_may_cancel, check_may_decide, require_approvers, require_pending
from alm_bot.store import ApprovalRequest, AuditEvent, Store, TrackedTask, Transaction

__all__ = ["ComparisonStarted", "Operations", "RequestOutcome", "TaskKind", "utc_now"]

_UNCONFIRMED = (
    "alm-bot stopped while starting this {what} and Anaplan shows no sign of it, so request {id} is "
    "marked failed rather than risk running it twice. Check the target model in Anaplan, then request "
    "it again if it is still needed."
)

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")

TaskKind = Literal["sync", "comparison_report", "comparison_summary"]
SyncTask = PendingTask | CompletedSyncTask
ReportTask = PendingTask | CompletedReportTask


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RequestOutcome:
    """What asking for a change produced: a pending request, or a change already under way/done."""

    request: ApprovalRequest
    status: Literal["awaiting_approval", "started", "succeeded", "failed"]
    approvers: list[str]

    @property
    def task_id(self) -> str | None:
        return self.request.anaplan_task_id


@dataclass(frozen=True)
class ComparisonStarted:
    """A comparison task that Anaplan is now running; the watcher reports when it is ready."""

    kind: Literal["comparison_report", "comparison_summary"]
    task: ReportTask
    source: ModelInfo
    target: ModelInfo
    source_revision: Revision
    target_revision_id: str


@dataclass(frozen=True)
class _SyncPlan:
    source: ModelInfo
    target: ModelInfo
    source_revision: Revision
    target_revision: Revision


class Operations:
    """The use cases. One instance per process, shared by all front ends."""

    def __init__(
        self,
        *,
        client: AnaplanClient,
        store: Store,
        settings: Settings,
        directory: ModelDirectory | None = None,
        clock: Callable[[], datetime] = utc_now,
        on_outbox: Callable[[], None] = lambda: None,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.directory = directory or ModelDirectory(client, settings)
        self.clock = clock
        self.on_outbox = on_outbox

    # --- reads: the seed operations, with models named the way people name them ------------------

    async def list_models(self, text_filter: str | None = None) -> list[ModelInfo]:
        return await self.directory.list_models(text_filter)

    async def resolve(self, model: str) -> ModelInfo:
        return await self.directory.resolve(model)

    async def get_revisions(
        self,
        model: str,
        sort_by: Literal["id", "name", "applied_on", "created_on"] | None = None,
        descending: bool = False,
    ) -> list[Revision]:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_revisions(sort_by=sort_by, descending=descending)

    async def get_latest_revision(self, model: str) -> Revision | None:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_latest_revision()

    async def get_syncable_revisions(self, source: str, target: str) -> list[Revision]:
        src, tgt = await self.resolve(source), await self.resolve(target)
        return await self.client.alm(tgt.id).get_syncable_revisions(src.id)

    async def get_models_for_revision(self, model: str, revision: str) -> list[ModelRevision]:
        info = await self.resolve(model)
        rev = await self._revision_of(info, revision)
        return await self.client.alm(info.id).get_models_for_revision(rev.id)

    async def get_sync_tasks(self, model: str) -> list[TaskSummary]:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_sync_tasks()

    async def get_sync_task(self, model: str, task_id: str) -> SyncTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_sync_task(task_id)

    async def get_comparison_report_task(self, model: str, task_id: str) -> ReportTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_comparison_report_task(task_id)

    async def get_comparison_report(self, model: str, task_id: str) -> bytes:
        info = await self.resolve(model)
        alm = self.client.alm(info.id)
        return await alm.get_comparison_report(await alm.get_comparison_report_task(task_id))

    async def get_comparison_summary_task(self, model: str, task_id: str) -> ReportTask:
        info = await self.resolve(model)
        return await self.client.alm(info.id).get_comparison_summary_task(task_id)

    async def get_comparison_summary(self, model: str, task_id: str) -> SummaryReport:
        info = await self.resolve(model)
        alm = self.client.alm(info.id)
        return await alm.get_comparison_summary(await alm.get_comparison_summary_task(task_id))

    # --- changes that never need approval ---------------------------------------------------------

    async def create_revision(self, model: str, name: str, description: str, *, actor: Actor) -> Revision:
        """Tag the model's current structure (standard-mode models only; Anaplan explains refusals)."""
        info = await self.resolve(model)
        if info.mode != "standard":
            raise InvalidArgument(
                "model",
                f"{info.label} is in {info.mode} mode; revisions can only be created on a standard-mode "
                "(development) model. Create the revision on the source model, then sync it.",
            )
        revision = await self.client.alm(info.id).create_revision(name, description)
        async with self.store.transaction() as tx:
            await tx.audit(
                "revision_created",
                actor,
                model_id=info.id,
                detail={"revision_id": revision.id, "name": revision.name, "model_name": info.name},
            )
        return revision

    async def start_comparison(
        self,
        source: str,
        target: str,
        revision: str | None = None,
        *,
        actor: Actor,
        full: bool = False,
        notify: str | None = None,
    ) -> ComparisonStarted:
        """Start a comparison summary (or the full report) of a source revision against the target.

        The watcher follows the task; when ``notify`` is a destination (e.g. ``user:U123``), a
        ``comparison_ready`` notice goes there once the result can be read.
        """
        plan = await self._plan_sync(source, target, revision)
        alm = self.client.alm(plan.target.id)
        args = (plan.source_revision.id, plan.source.id, plan.target_revision.id)
        kind: Literal["comparison_report", "comparison_summary"]
        task: ReportTask
        if full:
            kind, task = (
                "comparison_report",
                await alm.create_comparison_report(*args, wait_for_completion=False),
            )
        else:
            kind, task = (
                "comparison_summary",
                await alm.create_comparison_summary(*args, wait_for_completion=False),
            )
        async with self.store.transaction() as tx:
            await tx.track_task(
                kind,
                plan.target.id,
                task.task_id,
                first_poll_at=self.clock(),
                notify=notify,
                context=_plan_dict(plan),
            )
            await tx.audit(
                f"{kind}_started",
                actor,
                model_id=plan.target.id,
                detail={"task_id": task.task_id, "source_revision_id": plan.source_revision.id},
            )
        return ComparisonStarted(
            kind, task, plan.source, plan.target, plan.source_revision, plan.target_revision.id
        )

    # --- changes that may need a second person ----------------------------------------------------

    async def request_sync(
        self, source: str, target: str, revision: str | None = None, *, actor: Actor
    ) -> RequestOutcome:
        """Ask to sync a source revision (default: the newest syncable one) into the target model.

        Protected target → a pending request and an approval card. Otherwise the sync starts now.
        Either way a comparison summary is started so the plan (and the card) shows what changes.
        """
        plan = await self._plan_sync(source, target, revision)
        if plan.target.protected:
            require_approvers(self.settings.approval)
        summary_task_id = await self._start_plan_summary(plan)
        parameters = {"source": source, "target": target, "revision": revision}
        request = await self._open_request(
            "sync", parameters, _plan_dict(plan) | {"summary_task_id": summary_task_id}, plan.target, actor
        )
        if summary_task_id:
            async with self.store.transaction() as tx:
                await tx.track_task(
                    "comparison_summary",
                    plan.target.id,
                    summary_task_id,
                    request_id=request.id,
                    first_poll_at=self.clock(),
                )
        return await self._proceed(request, plan.target)

    async def request_status_change(
        self, model: str, status: Literal["online", "offline"], *, actor: Actor
    ) -> RequestOutcome:
        """Ask to take a model online or offline; protected models need approval first."""
        if status not in ("online", "offline"):
            raise InvalidArgument("status", f"status must be 'online' or 'offline', not {status!r}.")
        info = await self.directory.refresh_one((await self.resolve(model)).id)
        if info.protected:
            require_approvers(self.settings.approval)
        plan = {
            "model_id": info.id,
            "model_name": info.name,
            "model_alias": info.alias,
            "from_state": info.active_state,
            "status": status,
        }
        request = await self._open_request(
            "change_status", {"model": model, "status": status}, plan, info, actor
        )
        return await self._proceed(request, info)

    async def decide(
        self,
        request_id: str,
        *,
        actor: Actor,
        approve: bool,
        reason: str | None = None,
        actor_groups: Collection[str] = (),
    ) -> ApprovalRequest:
        """Approve or reject a pending request. Exactly one decision ever wins.

        Approval re-checks that the plan is still current, then starts the change. Rejection needs a
        reason. Refusals raise `NotAllowed` / `RequestNotPending` / `StalePlan` with a message to show.
        """
        request = await self.get_request(request_id)
        now = self.clock()
        check_may_decide(request, actor, actor_groups, self.settings.approval, now)
        if not approve and not (reason or "").strip():
            raise InvalidArgument(
                "reason", "A rejection needs a reason, so the requester knows what to change."
            )
        new_state = "approved" if approve else "rejected"
        async with self.store.transaction() as tx:
            decided = await tx.transition(
                request.id,
                {"pending"},
                new_state,
                decided_by_id=actor.id,
                decided_by_name=actor.name,
                decided_at=now,
                reason=(reason or "").strip() or None,
            )
            if decided is None:
                raise await self._not_pending(tx, request.id)
            await tx.audit(
                new_state,
                actor,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"reason": decided.reason},
            )
            await self.enqueue(tx, decided, "request_decided", user_destination(decided.requester_id))
            await self.enqueue(tx, decided, "request_updated", CARD)
        self.on_outbox()
        if not approve:
            return decided
        target = await self.directory.refresh_one(decided.target_model_id)
        return (await self._execute(decided, target)).request

    async def check_may_decide(
        self, request_id: str, *, actor: Actor, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        """Raise the refusal `decide` would give this actor now (for forms opened before deciding)."""
        request = await self.get_request(request_id)
        check_may_decide(request, actor, actor_groups, self.settings.approval, self.clock())
        return request

    async def cancel(self, request_id: str, *, actor: Actor) -> ApprovalRequest:
        """The requester withdraws a pending request."""
        request = await self.get_request(request_id)
        check_may_cancel(request, actor)
        async with self.store.transaction() as tx:
            cancelled = await tx.transition(
                request.id,
                {"pending"},
                "cancelled",
                decided_by_id=actor.id,
                decided_by_name=actor.name,
                decided_at=self.clock(),
            )
            if cancelled is None:
                raise await self._not_pending(tx, request.id)
            await tx.audit("cancelled", actor, request_id=request.id, model_id=request.target_model_id)
            await self.enqueue(tx, cancelled, "request_updated", CARD)
        self.on_outbox()
        return cancelled

    async def get_request(self, request_id: str) -> ApprovalRequest:
        request = await self.store.get_request(request_id.strip().upper())
        if request is None:
            raise RequestNotFound(f"There is no request {request_id}. Try /alm requests to list them.")
        return request

    async def list_requests(
        self, *, states: Collection[str] | None = None, requester_id: str | None = None, limit: int = 50
    ) -> list[ApprovalRequest]:
        return await self.store.list_requests(states=states, requester_id=requester_id, limit=limit)

    async def list_audit(self, model: str | None = None, limit: int = 50) -> list[AuditEvent]:
        model_id = (await self.resolve(model)).id if model else None
        return await self.store.list_audit(model_id=model_id, limit=limit)

    @property
    def approvers(self) -> list[str]:
        approval = self.settings.approval
        return [*approval.approvers, *approval.approver_groups]

    # --- internals ----------------------------------------------------------------------------------

    async def _plan_sync(self, source: str, target: str, revision: str | None) -> _SyncPlan:
        src = await self.resolve(source)
        tgt = await self.directory.refresh_one((await self.resolve(target)).id)
        if src.id == tgt.id:
            raise InvalidArgument("target", f"Source and target are the same model ({src.label}).")
        alm = self.client.alm(tgt.id)
        latest = await alm.get_latest_revision()
        if latest is None:
            raise NothingToSync(
                f"{tgt.label} has no revision yet, so it cannot take a sync from {src.label}."
            )
        syncable = await alm.get_syncable_revisions(src.id)
        if not syncable:
            raise NothingToSync(
                f"{src.label} has no revision that {tgt.label} can take: the target is already at "
                f"{latest.name!r}, or the models do not share a revision history. "
                f'Create a revision on {src.label} first (/alm revision {src.alias or src.id} "name").'
            )
        chosen = _pick_revision(syncable, revision, src, tgt) if revision else syncable[0]
        return _SyncPlan(src, tgt, chosen, latest)

    async def _start_plan_summary(self, plan: _SyncPlan) -> str | None:
        """Ask Anaplan for a change summary so the approver sees what changes; never blocks the request."""
        try:
            task = await self.client.alm(plan.target.id).create_comparison_summary(
                plan.source_revision.id, plan.source.id, plan.target_revision.id, wait_for_completion=False
            )
        except AnaplanError:
            return None
        return task.task_id

    async def _open_request(
        self,
        operation: Literal["sync", "change_status"],
        parameters: dict[str, Any],
        plan: dict[str, Any],
        target: ModelInfo,
        actor: Actor,
    ) -> ApprovalRequest:
        now = self.clock()
        protected = target.protected
        plan = plan | {"protected": protected}
        async with self.store.transaction() as tx:
            request = await tx.insert_request(
                ApprovalRequest(
                    operation=operation,
                    parameters=parameters,
                    plan=plan,
                    target_model_id=target.id,
                    requester_id=actor.id,
                    requester_name=actor.name,
                    origin=actor.origin,
                    state="requested",
                    created_at=now,
                    expires_at=now + self.settings.approval.expires_after,
                )
            )
            await tx.audit(
                "requested",
                actor,
                request_id=request.id,
                model_id=target.id,
                detail={"operation": operation, "protected": protected},
            )
            if protected:
                request = await tx.transition(request.id, {"requested"}, "pending") or request
                await self.enqueue(tx, request, "approval_needed", APPROVALS)
        if protected:
            self.on_outbox()
        return request

    async def _proceed(self, request: ApprovalRequest, target: ModelInfo) -> RequestOutcome:
        if request.state == "pending":
            return RequestOutcome(request, "awaiting_approval", self.approvers)
        return await self._execute(request, target)

    async def _execute(self, request: ApprovalRequest, target: ModelInfo) -> RequestOutcome:
        """Start the change: re-check the plan, claim execution (CAS), call Anaplan, record the outcome."""
        from_state = request.state
        try:
            await self._check_not_stale(request, target)
        except StalePlan as stale:
            return await self._fail(request, {from_state}, str(stale))
        async with self.store.transaction() as tx:
            executing = await tx.transition(request.id, {from_state}, "executing")
            if executing is None:
                raise await self._not_pending(tx, request.id)
        try:
            if request.operation == "sync":
                return await self._start_sync(executing)
            return await self._change_status(executing)
        except AlmBotError as exc:
            return await self._fail(executing, {"executing"}, str(exc))

    async def _check_not_stale(self, request: ApprovalRequest, target: ModelInfo) -> None:
        plan = request.plan or {}
        if request.operation == "sync":
            latest = await self.client.alm(target.id).get_latest_revision()
            if latest is None or latest.id != plan.get("target_revision_id"):
                now_at = latest.name if latest else "no revision"
                raise StalePlan(
                    f"The plan is stale: {target.label} moved from revision "
                    f"{plan.get('target_revision_name')!r} to {now_at!r} since request {request.id} "
                    "was made. Nothing was changed; request the sync again."
                )
        elif target.active_state != plan.get("from_state"):
            raise StalePlan(
                f"The plan is stale: {target.label} is now {target.active_state}, not "
                f"{plan.get('from_state')} as when request {request.id} was made. "
                "Nothing was changed; ask again if still needed."
            )

    async def _start_sync(self, request: ApprovalRequest) -> RequestOutcome:
        plan = request.plan
        task = await self.client.alm(request.target_model_id).sync_models(
            plan["source_revision_id"],
            plan["source_model_id"],
            plan["target_revision_id"],
            wait_for_completion=False,
        )
        async with self.store.transaction() as tx:
            updated = await tx.update_request(request.id, anaplan_task_id=task.task_id) or request
            await tx.track_task(
                "sync",
                request.target_model_id,
                task.task_id,
                request_id=request.id,
                first_poll_at=self.clock(),
            )
            await tx.audit(
                "sync_started",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"task_id": task.task_id},
            )
            await self.enqueue(tx, updated, "request_updated", CARD)
        self.on_outbox()
        return RequestOutcome(updated, "started", self.approvers)

    async def _change_status(self, request: ApprovalRequest) -> RequestOutcome:
        await self.client.alm(request.target_model_id).change_model_status(request.plan["status"])
        self.directory.invalidate()
        done = await self._record_status_changed(request) or await self.get_request(request.id)
        self.on_outbox()
        return RequestOutcome(done, "succeeded", self.approvers)

    async def _record_status_changed(self, request: ApprovalRequest) -> ApprovalRequest | None:
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

    async def _fail(self, request: ApprovalRequest, from_states: set[str], message: str) -> RequestOutcome:
        async with self.store.transaction() as tx:
            failed = await tx.transition(
                request.id, from_states, "failed", result={"successful": False, "message": message}
            )
            if failed is None:
                raise await self._not_pending(tx, request.id)
            await tx.audit(
                "failed",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"message": message},
            )
            await self.enqueue(tx, failed, "task_finished", user_destination(failed.requester_id))
            await self.enqueue(tx, failed, "request_updated", CARD)
        self.on_outbox()
        return RequestOutcome(failed, "failed", self.approvers)

    async def recover_orphans(self, older_than: timedelta) -> int:
        """Settle requests whose executor died between claiming execution and recording the task.

        A process can stop after moving a request to ``executing`` and before it stored Anaplan's
        task id. Anaplan knows the truth: a sync task created for the target since then is adopted
        and followed; a status change is judged by the model's state now. Anything unconfirmable is
        failed with a message saying what to check — never started a second time.
        """
        cutoff = self.clock() - older_than
        executing = await self.store.list_requests(states={"executing"}, limit=200)
        orphans = [r for r in executing if r.anaplan_task_id is None and r.updated_at < cutoff]
        for request in orphans:
            await self._recover(request)
        return len(orphans)

    async def _recover(self, request: ApprovalRequest) -> None:
        if request.operation == "change_status":
            model = await self.directory.refresh_one(request.target_model_id)
            wanted_online = request.plan.get("status") == "online"
            if model.online == wanted_online:
                await self._record_status_changed(request)
                return
            await self._fail(request, {"executing"}, _UNCONFIRMED.format(id=request.id, what="status change"))
            return
        since = request.updated_at - timedelta(minutes=1)
        tasks = await self.client.alm(request.target_model_id).get_sync_tasks()
        adopted = [t for t in tasks if t.creation_time >= since]
        if not adopted:
            await self._fail(request, {"executing"}, _UNCONFIRMED.format(id=request.id, what="sync"))
            return
        task_id = max(adopted, key=lambda t: t.creation_time).task_id
        async with self.store.transaction() as tx:
            await tx.update_request(request.id, anaplan_task_id=task_id)
            await tx.track_task(
                "sync", request.target_model_id, task_id, request_id=request.id, first_poll_at=self.clock()
            )
            await tx.audit(
                "sync_adopted",
                None,
                request_id=request.id,
                model_id=request.target_model_id,
                detail={"task_id": task_id},
            )

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
        if destination.startswith("user:") and not _SLACK_USER.match(request.requester_id):
            return  # a CLI or pipeline requester has no Slack DM to receive
        key = f"{kind}:{destination}:{request.id}:{moment or request.state}"
        await tx.enqueue(kind, destination, {"request_id": request.id, **(extra or {})}, key)

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
            await self.enqueue(tx, request, "task_finished", destination)
        await self.enqueue(tx, request, "request_updated", CARD)
        self.directory.invalidate()

    async def _record_plan_summary(self, tx: Transaction, request_id: str, result: dict[str, Any]) -> None:
        request = await tx.get_request(request_id)
        if request is None:
            return
        summary = {"summary": result.get("summary"), "summary_error": _summary_error(result)}
        updated = await tx.update_request(request.id, plan=request.plan | summary) or request
        await self.enqueue(tx, updated, "request_updated", CARD, moment="summary")

    async def _not_pending(self, tx: Transaction, request_id: str) -> RequestNotPending:
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

    async def _revision_of(self, info: ModelInfo, revision: str) -> Revision:
        revisions = await self.client.alm(info.id).get_revisions()
        for rev in revisions:
            if revision.upper() == rev.id.upper() or revision.casefold() == rev.name.casefold():
                return rev
        raise InvalidArgument(
            "revision",
            f"{info.label} has no revision {revision!r}. Try /alm revisions {info.alias or info.id}.",
        )


def _summary_error(result: dict[str, Any]) -> str | None:
    if result.get("successful"):
        return result.get("summary_error")
    return result.get("message") or result.get("title") or "Anaplan could not compute the change summary."


def _pick_revision(syncable: list[Revision], wanted: str, src: ModelInfo, tgt: ModelInfo) -> Revision:
    for rev in syncable:
        if wanted.upper() == rev.id.upper() or wanted.casefold() == rev.name.casefold():
            return rev
    names = ", ".join(repr(r.name) for r in syncable[:5])
    raise NothingToSync(
        f"{wanted!r} is not a revision of {src.label} that {tgt.label} can take. Syncable now: {names}."
    )


def _plan_dict(plan: _SyncPlan) -> dict[str, Any]:
    rev = plan.source_revision
    return {
        "source_model_id": plan.source.id,
        "source_model_name": plan.source.name,
        "source_alias": plan.source.alias,
        "target_model_id": plan.target.id,
        "target_model_name": plan.target.name,
        "target_alias": plan.target.alias,
        "source_revision_id": rev.id,
        "source_revision_name": rev.name,
        "source_revision_description": rev.description,
        "source_revision_created_by": rev.created_by,
        "source_revision_created_on": rev.created_on.isoformat(),
        "target_revision_id": plan.target_revision.id,
        "target_revision_name": plan.target_revision.name,
    }
