"""The watcher: follows Anaplan tasks, expires requests, and delivers the outbox.

`tick()` does one pass and is what tests drive:

1. expire pending requests whose time is up (the card will say EXPIRED — never "rejected"), and
   remind or escalate those that waited past their policy's ``remind_after``/``escalate_after``;
2. claim due tracked tasks under a lease and poll Anaplan for them, with bounded concurrency and
   inside the request budget (at most N requests in any second; a 429's Retry-After pauses it). A
   running task is polled densely only around the end its target's past tasks let expect, sparsely
   before (`alm_bot.pacing`); a finished task moves its request to succeeded/failed exactly once
   (a successful sync is verified first: `alm_bot.evidence.verification`);
3. claim due outbox rows and hand each to the `Notifier`; failures are retried with backoff, and a
   delivered row is never delivered again.

Every backoff here (a failed poll, a failed delivery, the database down) is alm-bot's one `Backoff`.

`run()` loops `tick()` until cancelled; `wake()` makes it tick at once (a new card to post). All
state is in the database, so a restarted or second watcher simply carries on; leases make sure two
watchers never work on the same row at the same time.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio

from alm_bot.anaplan.models import CompletedReportTask
from alm_bot.anaplan.verdict import verdict_of
from alm_bot.backoff import Backoff
from alm_bot.errors import AlmBotError, AnaplanError, NotFound, RateLimited, StoreUnavailable
from alm_bot.metrics_hooks import NO_WATCHER_EVENTS, WatcherEvents
from alm_bot.notify import DeliveryReceipt, Notice, Notifier
from alm_bot.operations import WatchedWork, default_owner, utc_now
from alm_bot.operations.watching import AnyTask
from alm_bot.pacing import Pacing, TaskHistory, observed_duration
from alm_bot.ratelimit import RequestBudget
from alm_bot.records import TaskOutcome, Verification
from alm_bot.store import OutboxRow, TrackedTask

__all__ = ["TickReport", "Watcher", "default_owner"]

log = logging.getLogger("alm_bot.watcher")

# Redelivering a notice: 1 s, 2 s, 4 s … up to 5 minutes (unless the server says when).
_REDELIVERY = Backoff(1.0, 2.0, 300.0)
_RELEASE_SECONDS = 5.0  # how long stopping may spend giving the leases back


@dataclass
class TickReport:
    """What one pass did; `busy` means a batch was full, so another pass should follow at once."""

    expired: int = 0
    nudged: int = 0
    polled: int = 0
    finished: int = 0
    delivered: int = 0
    delivery_failures: int = 0
    busy: bool = False


class Watcher:
    """Polls tracked tasks, expires requests and delivers notices. One per process."""

    def __init__(
        self,
        work: WatchedWork,
        notifier: Notifier,
        *,
        owner: str | None = None,
        clock: Callable[[], datetime] = utc_now,
        budget: RequestBudget | None = None,
        batch: int = 50,
        concurrency: int = 8,
        idle_seconds: float = 0.25,
        deliver: bool | Callable[[], bool] = True,
        pacing: Pacing | None = None,
    ) -> None:
        watcher_cfg = work.settings.watcher
        self.work = work
        self.notifier = notifier
        self.owner = owner or default_owner()
        self._clock = clock
        self._budget = budget or RequestBudget(watcher_cfg.anaplan_requests_per_second)
        self._poll_max = watcher_cfg.poll_max_seconds
        near_end = min(watcher_cfg.poll_near_end_seconds, self._poll_max)
        self._pacing = pacing or Pacing(Backoff(watcher_cfg.poll_min_seconds, 1.5, self._poll_max), near_end)
        self._poll_failed = Backoff(watcher_cfg.poll_min_seconds, 2.0, self._poll_max)
        self._history = TaskHistory(work.recent_successful_tasks)
        self._lease = timedelta(seconds=watcher_cfg.lease_seconds)
        self._batch = batch
        self._concurrency = concurrency
        self._idle = idle_seconds
        # False: follow tasks only, leave notices for a process with Slack. A check: deliver only while
        # it answers True (serve pauses deliveries while Slack refuses its token or cannot be reached).
        self._deliver_notices = deliver
        self._wake = anyio.Event()
        self._stopping = False
        self._abandoned = False  # a pass was cut short by the database: its leases are still ours
        self.heartbeat: float | None = None  # time.monotonic() of the last finished tick
        self.observer: WatcherEvents = NO_WATCHER_EVENTS  # alm_bot.metrics counts ticks and lost leases

    def wake(self) -> None:
        """Tick now instead of at the next idle interval (something new is in the outbox)."""
        self._wake.set()

    def stop(self) -> None:
        """Let `run()` finish the pass it is in, release its leases and return — never cut a pass short."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Tick until cancelled or stopped. Between idle ticks, wait for `wake()` or the idle interval.

        While the database does not answer, passes are retried with backoff (up to the longest poll
        interval): an outage pauses the watcher, it never ends it.
        """
        outage = 0
        store_down = Backoff(self._idle * 2, 2.0, max(self._poll_max, self._idle * 2))
        try:
            while not self._stopping:
                report = await self._tick_unless_store_down()
                outage = 0 if report is not None else outage + 1
                if report is not None and report.busy:
                    continue
                with anyio.move_on_after(store_down.delay(outage) if outage else self._idle):
                    await self._wake.wait()  # a commit (or stop()) ends the wait early
                self._wake = anyio.Event()
        finally:
            # Bounded: a database that never answers must not hold up the shutdown (leases lapse).
            with anyio.CancelScope(shield=True), anyio.move_on_after(_RELEASE_SECONDS):
                await self._release_leases()

    async def _tick_unless_store_down(self) -> TickReport | None:
        """`tick()`, or None (logged) when the database did not answer.

        A pass cut short by the database leaves the tasks and notices it had claimed leased to this
        watcher. No pass of this watcher runs now, so before the next one they are given back: they
        are taken up as soon as the database answers, not one lease later.
        """
        try:
            if self._abandoned:
                await self.work.release_leases(self.owner)
                self._abandoned = False
            return await self.tick()
        except* StoreUnavailable as down:
            self._abandoned = True
            log.warning("watcher pass abandoned, will retry: %s", down.exceptions[0])
        return None

    async def _release_leases(self) -> None:
        try:
            await self.work.release_leases(self.owner)
        except StoreUnavailable as exc:
            log.warning("could not release leases (they expire on their own): %s", exc)

    async def tick(self) -> TickReport:
        """One pass: expire, poll, deliver."""
        report = TickReport()
        report.expired = await self._expire_requests()
        report.nudged = await self.work.nudge_due(self._clock())
        await self._recover_orphans()
        await self._poll_tasks(report)
        if self._deliver_notices is True or (callable(self._deliver_notices) and self._deliver_notices()):
            await self._deliver_outbox(report)
        self.heartbeat = time.monotonic()
        self.observer.ticked()
        return report

    # --- 1. expiry ---------------------------------------------------------------------------------

    async def _expire_requests(self) -> int:
        expired = await self.work.expire_due(self._clock())
        if expired:
            log.info("expired %d pending request(s): %s", len(expired), ", ".join(r.id for r in expired))
            self.wake()
        return len(expired)

    async def _recover_orphans(self) -> None:
        """Settle requests whose owner is gone: its lease lapsed (a cheap query, every pass)."""
        try:
            recovered = await self.work.settle_unsettled(self._clock())
        except AnaplanError as exc:
            log.warning("could not check for interrupted executions yet: %s", exc)
            return
        if recovered:
            log.warning("took up %d request(s) whose process had stopped", recovered)
            self.wake()

    # --- 2. tasks ----------------------------------------------------------------------------------

    async def _poll_tasks(self, report: TickReport) -> None:
        tasks = await self.work.claim_due_tasks(self.owner, self._clock(), self._lease, self._batch)
        report.busy = len(tasks) >= self._batch
        limiter = anyio.CapacityLimiter(self._concurrency)

        async def poll_one(task: TrackedTask) -> None:
            async with limiter:
                if await self._poll(task):
                    report.finished += 1
                report.polled += 1

        async with anyio.create_task_group() as tg:
            for task in tasks:
                tg.start_soon(poll_one, task)

    async def _poll(self, task: TrackedTask) -> bool:
        """Poll one task; True when it finished (and this watcher recorded that)."""
        if task.last_step is None:  # never polled: with a known target, not before its window opens
            window = await self._history.window(task.kind, task.model_id)
            wait = self._pacing.wait_before_first_poll(self._elapsed(task), window)
            if wait > 0:
                await self._reschedule(task, wait, None)
                return False
        try:
            async with self._budget.slot():
                info = await self.work.fetch_task(task)
        except RateLimited as exc:
            pause = exc.retry_after or self._poll_max
            self._budget.pause_for(pause)
            await self._reschedule(task, pause, task.last_step)
            return False
        except NotFound as exc:
            return await self._finish(
                task, TaskOutcome(successful=False, title="Task not found", message=str(exc))
            )
        except AnaplanError as exc:
            log.warning("polling %s task %s failed, will retry: %s", task.kind, task.anaplan_task_id, exc)
            await self._reschedule(task, self._poll_failed.delay(task.attempts + 1), task.last_step)
            return False
        if not info.is_finished:
            await self._note_progress(task, info)
            return False
        return await self._finish(task, await self._outcome(task, info))

    async def _note_progress(self, task: TrackedTask, info: AnyTask) -> None:
        step = info.current_step or info.task_state
        if step != task.last_step:
            await self.work.note_progress(task, step, info.progress)  # publishes: waiting tools see it
        window = await self._history.window(task.kind, task.model_id)
        delay = self._pacing.next_delay(self._elapsed(task), task.poll_interval_seconds, window)
        await self._reschedule(task, delay, step)

    def _elapsed(self, task: TrackedTask) -> float:
        """Seconds since the task was tracked (just after Anaplan created it), on the store's clock."""
        return max(0.0, (self._clock() - task.created_at).total_seconds())

    async def _reschedule(self, task: TrackedTask, seconds: float, step: str | None) -> None:
        await self.work.reschedule_task(
            task, self.owner, self._clock() + timedelta(seconds=seconds), seconds, step
        )

    async def _outcome(self, task: TrackedTask, info: AnyTask) -> TaskOutcome:
        """The outcome to record, fetched before the finishing transaction (no I/O inside it)."""
        fields: dict[str, Any] = {"successful": False, "task_state": info.task_state}
        verdict = verdict_of(info, what=task.kind.replace("_", " "))
        if verdict is not None:
            fields["successful"] = verdict.successful
            if not verdict.successful:
                fields["title"] = verdict.title
                fields["message"] = verdict.detail
        if task.kind == "sync" and fields["successful"]:
            fields["verification"] = await self._verification(task)
        if (
            task.kind == "comparison_summary"
            and isinstance(info, CompletedReportTask)
            and info.result.successful
        ):
            try:
                async with self._budget.slot():  # a second request for this task: it counts too
                    fields["summary"] = await self.work.fetch_summary(task, info)
            except AnaplanError as exc:
                fields["summary_error"] = str(exc)
        plan_report = task.kind == "comparison_report" and task.request_id is not None
        if plan_report and isinstance(info, CompletedReportTask) and info.result.successful:
            try:  # the plan's report, for the data-loss radar (downloaded within its size cap)
                async with self._budget.slot():
                    fields["report"] = await self.work.read_plan_report(task, info)
            except AnaplanError as exc:
                fields["report_error"] = str(exc)
        return TaskOutcome(**fields)

    async def _verification(self, task: TrackedTask) -> Verification | None:
        """The checks after a sync; None (logged) when they cannot be made — the result is recorded
        either way, so one request whose plan cannot be checked never stops the watcher."""
        try:
            async with self._budget.slot():  # the checks after a sync count against the budget too
                return await self.work.verify_sync(task)
        except StoreUnavailable:
            raise
        except AlmBotError as exc:  # e.g. a plan without the ids the checks read
            log.warning("could not verify sync task %s: %s", task.anaplan_task_id, exc)
            return None

    async def _finish(self, task: TrackedTask, outcome: TaskOutcome) -> bool:
        done = await self.work.finish_task(task, self.owner, outcome)  # publishes the change
        if done and outcome.successful:
            duration = observed_duration(self._elapsed(task), task.poll_interval_seconds)
            self._history.record(task.kind, task.model_id, duration)
        if done:
            log.info("%s task %s finished: %s", task.kind, task.anaplan_task_id, outcome.successful)
            self.wake()
        else:
            self.observer.lease_lost("task")
        return done

    # --- 3. outbox ---------------------------------------------------------------------------------

    async def _deliver_outbox(self, report: TickReport) -> None:
        rows = await self.work.claim_due_outbox(self.owner, self._clock(), self._lease, self._batch)
        report.busy = report.busy or len(rows) >= self._batch
        for row in rows:
            if await self._deliver(row):
                report.delivered += 1
            else:
                report.delivery_failures += 1

    async def _deliver(self, row: OutboxRow) -> bool:
        request_id = getattr(row.payload, "request_id", None)
        request = await self.work.find_request(request_id) if request_id else None
        notice = Notice(row.id, row.kind, row.destination, row.payload, request)
        try:
            receipt = await self.notifier.deliver(notice)
        except StoreUnavailable:
            raise  # the database, not Slack: the pass is abandoned and the row given back (above)
        except Exception as exc:  # any notifier failure means "try again later"; recorded on the row
            delay = _retry_delay(exc, row.attempts)
            log.warning(
                "delivering %s to %s failed (attempt %d), retry in %.0fs: %s",
                row.kind,
                row.destination,
                row.attempts,
                delay,
                exc,
            )
            await self.work.record_delivery_failure(
                row,
                self.owner,
                self._clock() + timedelta(seconds=delay),
                f"{type(exc).__name__}: {exc}"[:500],
            )
            return False
        card_ref = receipt.card_ref if receipt is not None else None
        if not await self.work.record_delivery(row, self.owner, _receipt_dict(receipt), card_ref):
            self.observer.lease_lost("outbox")
        return True


def _retry_delay(exc: Exception, attempts: int) -> float:
    """Backoff for a failed delivery: the server's Retry-After when it gave one, else exponential."""
    retry_after = getattr(exc, "retry_after", None)
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None) or {}
    header = headers.get("Retry-After") or headers.get("retry-after") if hasattr(headers, "get") else None
    for hint in (retry_after, header):
        try:
            if hint is not None:
                return max(0.5, float(hint))
        except (TypeError, ValueError):
            continue
    return _REDELIVERY.delay(attempts)


def _receipt_dict(receipt: DeliveryReceipt | None) -> dict[str, Any] | None:
    if receipt is None:
        return None
    return {"card_ref": receipt.card_ref, **receipt.extra}
