"""Task-creating POSTs (sync tasks, revisions, comparison and summary reports), never replayed blindly.

Repeating ``POST …/alm/syncTasks`` after a failure whose outcome is unknown can start the same sync
twice, which is exactly what anaplan-sdk does (reference §9.2). The rules here, per failure:

- **Nothing was sent** (connection refused, connect/pool timeout) or **Anaplan refused before
  processing** (429): safe to send again, with the usual backoff.
- **Ambiguous** (a 5xx answer; a read timeout or dropped connection after sending): Anaplan may or may
  not have created the thing. Where Anaplan lets us look, we look instead of guessing:

  * sync tasks: the ids from ``GET …/alm/syncTasks`` are remembered *before* the POST, with the
    server's time (its ``Date`` header; else the newest listed ``creationTime``). After the failure
    the list is read again. A task is ours only if it is new, was created after that moment, *and*
    its own result names our source and target revisions (each candidate is read): then it is
    adopted and returned as if the POST had succeeded (with a warning in the log). A new task that
    cannot be proven ours — still running, a result without revision ids, other revisions — may be
    somebody else's sync: ``TaskCreationUncertain`` names it instead of adopting it, and nothing is
    sent again. If no task appeared: after a 5xx answer Anaplan evidently did not create it, so the
    POST is sent again (bounded by the retry policy); after a timeout or a dropped connection the
    request may still be in flight and create the task late, so ``TaskCreationUncertain`` tells
    the user to check the target's sync tasks before trying again.
  * revisions: the same idea with ``latestRevision`` — a new latest revision with the requested name
    is adopted.
  * comparison and summary report tasks have no list endpoint. Sending again only costs a duplicate
    report, so they are retried on 5xx and timeouts like an idempotent call.

- Anything else (4xx): raised at once, never retried — 409 "model busy" included (``ModelBusy``:
  another sync is running into the target). A 401 is handled below this module: one
  re-authentication and one replay, which is safe because Anaplan did not process the request.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Final, Generic, TypeVar

import httpx2

from alm_bot.anaplan.envelopes import (
    CreatedRevision,
    CreatedTask,
    RevisionList,
    SyncTaskInfo,
    TaskList,
    parse_body,
)
from alm_bot.anaplan.error_mapping import Endpoint, error_for_response, error_for_transport_failure
from alm_bot.anaplan.models import CompletedSyncTask, PendingTask, Revision, SyncTask, TaskSummary
from alm_bot.anaplan.retry import is_retryable_transport_error
from alm_bot.anaplan.transport import AnaplanHttp
from alm_bot.errors import AnaplanError, TaskCreationUncertain

__all__ = ["create_revision", "start_report_task", "start_sync_task"]

_log = logging.getLogger("alm_bot.anaplan")

_AMBIGUOUS_STATUSES: Final = frozenset({500, 502, 503, 504})
_NOTHING_SENT: Final = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Recovery(Generic[T]):
    """How to tell whether an ambiguously failed POST created its thing anyway.

    ``find`` returns what the POST created (or None); ``uncertain(reason)`` is the user's message when
    nothing shows that it did and sending again could duplicate it.
    """

    find: Callable[[], Awaitable[T | None]]
    uncertain: Callable[[str], str]


async def _post_once_or_recover(
    http: AnaplanHttp,
    endpoint: Endpoint,
    body: dict[str, Any],
    *,
    parse: Callable[[httpx2.Response], T],
    recovery: Recovery[T] | None,
) -> T:
    """POST ``body``; on failure retry only where that cannot create a second thing.

    Without a ``recovery`` there is nowhere to look and a duplicate is harmless, so ambiguous
    failures are simply retried.
    """
    attempts = http.retrier.policy.attempts
    label = f"POST {endpoint.path}"
    for attempt in range(1, attempts + 1):
        last = attempt == attempts
        try:
            response = await http.exchange("POST", endpoint, json=body)
        except _NOTHING_SENT as exc:
            if last:
                raise error_for_transport_failure(exc, endpoint) from exc
            await http.retrier.pause(attempt, None, label, type(exc).__name__)
            continue
        except httpx2.TransportError as exc:
            if not is_retryable_transport_error(exc):
                raise error_for_transport_failure(exc, endpoint) from exc
            reason = f"{type(exc).__name__} after sending"
            found = await _look_for_created(recovery, endpoint, reason)
            if found is not None:
                return found
            if recovery is not None:
                raise TaskCreationUncertain(recovery.uncertain(reason), path=endpoint.path) from exc
            if last:
                raise error_for_transport_failure(exc, endpoint) from exc
            await http.retrier.pause(attempt, None, label, reason)
            continue
        if response.is_success:
            return parse(response)
        status = response.status_code
        if status == 429 and not last:
            await http.retrier.pause(attempt, response, label, "HTTP 429")
            continue
        if status in _AMBIGUOUS_STATUSES:
            found = await _look_for_created(recovery, endpoint, f"HTTP {status}")
            if found is not None:
                return found
            if not last:
                await http.retrier.pause(attempt, response, label, f"HTTP {status}")
                continue
        raise error_for_response(response, endpoint)
    raise AssertionError("unreachable: the last attempt always returns or raises")  # pragma: no cover


async def _look_for_created(recovery: Recovery[T] | None, endpoint: Endpoint, reason: str) -> T | None:
    if recovery is None:
        return None
    try:
        found = await recovery.find()
    except TaskCreationUncertain:
        raise
    except AnaplanError as exc:
        # We cannot see whether the POST worked, so sending it again could duplicate it.
        raise TaskCreationUncertain(
            recovery.uncertain(f"{reason}; checking for it failed too"), path=endpoint.path
        ) from exc
    if found is not None:
        _log.warning(
            "POST %s failed (%s) but Anaplan had created it; adopting %r", endpoint.path, reason, found
        )
    return found


# --- sync tasks ----------------------------------------------------------------------------------


_CLOCK_RESOLUTION: Final = timedelta(seconds=1)  # ``Date`` has whole seconds


async def _listed_sync_tasks(http: AnaplanHttp, tasks: Endpoint) -> tuple[list[TaskSummary], datetime | None]:
    """The target's sync tasks, and the server's time of the answer (its ``Date`` header), if sent."""
    response = await http.get(tasks)
    listed = parse_body(TaskList, response, action=tasks.action, path=tasks.path).tasks
    try:
        said = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError):
        said = None
    return listed, said if said is not None and said.tzinfo is not None else None


def _created_since(listed: list[TaskSummary], server_time: datetime | None) -> datetime | None:
    """The earliest ``creationTime`` a task created by our POST can have."""
    newest = max((t.creation_time for t in listed), default=None)
    marks = [m for m in (newest, server_time - _CLOCK_RESOLUTION if server_time else None) if m is not None]
    return max(marks) if marks else None


def _is_ours(task: SyncTask, body: dict[str, Any]) -> bool:
    if not isinstance(task, CompletedSyncTask):
        return False
    result = task.result
    return (result.source_revision_id, result.target_revision_id) == (
        body["sourceRevisionId"],
        body["targetRevisionId"],
    )


async def start_sync_task(
    http: AnaplanHttp, endpoint: Endpoint, tasks: Endpoint, body: dict[str, Any]
) -> PendingTask:
    """POST a sync task; adopt the task that appeared if it is provably ours (see module docstring)."""
    listed, server_time = await _listed_sync_tasks(http, tasks)
    before = {t.task_id for t in listed}
    since = _created_since(listed, server_time)

    async def find_created() -> PendingTask | None:
        now_listed, _ = await _listed_sync_tasks(http, tasks)
        new = [
            t for t in now_listed if t.task_id not in before and (since is None or t.creation_time >= since)
        ]
        for candidate in sorted(new, key=lambda t: t.creation_time):
            info = await http.get_json(
                Endpoint(f"{tasks.path}/{candidate.task_id}", f"read sync task {candidate.task_id}"),
                SyncTaskInfo,
            )
            if _is_ours(info.task, body):
                return PendingTask(
                    task_id=candidate.task_id,
                    task_state=info.task.task_state,
                    creation_time=candidate.creation_time,
                )
        if new:
            ids = ", ".join(t.task_id for t in new)
            raise TaskCreationUncertain(
                "Anaplan did not confirm whether the sync started, and the target model now has sync task(s) "
                f"{ids} that alm-bot cannot prove to be this sync (still running, or not naming these "
                "revisions). Check those tasks before trying again.",
                path=endpoint.path,
                candidates=tuple(t.task_id for t in new),
            )
        return None

    def uncertain(reason: str) -> str:
        return (
            f"Anaplan did not confirm whether the sync started ({reason}) and no new sync task is visible on "
            "the target model yet. Check the target model's sync tasks before trying again: the request "
            "may still arrive late and start the sync."
        )

    return await _post_once_or_recover(
        http, endpoint, body, parse=_created_task(endpoint), recovery=Recovery(find_created, uncertain)
    )


# --- report tasks --------------------------------------------------------------------------------


async def start_report_task(http: AnaplanHttp, endpoint: Endpoint, body: dict[str, Any]) -> PendingTask:
    """POST a comparison-report or summary task; a replay only costs a duplicate report."""
    return await _post_once_or_recover(http, endpoint, body, parse=_created_task(endpoint), recovery=None)


def _created_task(endpoint: Endpoint) -> Callable[[httpx2.Response], PendingTask]:
    def parse(response: httpx2.Response) -> PendingTask:
        return parse_body(CreatedTask, response, action=endpoint.action, path=endpoint.path).task

    return parse


# --- revisions -----------------------------------------------------------------------------------


async def create_revision(
    http: AnaplanHttp, endpoint: Endpoint, latest: Endpoint, body: dict[str, Any]
) -> Revision:
    """POST a revision; adopt a new latest revision with the requested name if the answer was lost."""

    async def latest_revision() -> Revision | None:
        revisions = (await http.get_json(latest, RevisionList)).revisions
        return revisions[0] if revisions else None

    previous = await latest_revision()

    async def find_created() -> Revision | None:
        now = await latest_revision()
        is_new = now is not None and (previous is None or now.id != previous.id)
        return now if is_new and now is not None and now.name == body["name"] else None

    def uncertain(reason: str) -> str:
        return (
            f"Anaplan did not confirm whether the revision {body['name']!r} was created ({reason}) and it "
            "is not the model's latest revision yet. Check the model's revisions before trying again: "
            "the request may still arrive late and create it."
        )

    def parse(response: httpx2.Response) -> Revision:
        return parse_body(CreatedRevision, response, action=endpoint.action, path=endpoint.path).revision

    return await _post_once_or_recover(
        http, endpoint, body, parse=parse, recovery=Recovery(find_created, uncertain)
    )
