"""Checks on caller-supplied values, run before any request is sent.

A bad id or an over-long revision name is refused here with an ``InvalidArgument`` that names the
parameter and shows the value, instead of costing a round trip and coming back as Anaplan's 400 or,
worse, as a 404 for a path that was never meant. Values that pass are returned unchanged: Anaplan's
ids are uppercase hex and its paths are case-sensitive, so an id is passed on exactly as given.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Final, Literal

from alm_bot.anaplan.models import CompletedReportTask
from alm_bot.errors import InvalidArgument

__all__ = [
    "MAX_DESCRIPTION_LENGTH",
    "MAX_REVISION_NAME_LENGTH",
    "SORT_FIELDS",
    "anaplan_id",
    "finished_report_revisions",
    "online_status",
    "positive_limit",
    "revision_description",
    "revision_name",
    "revision_window",
    "sort_parameter",
    "task_body",
]

MAX_REVISION_NAME_LENGTH: Final = 60
MAX_DESCRIPTION_LENGTH: Final = 250
SORT_FIELDS: Final = {"id": "id", "name": "name", "applied_on": "appliedOn", "created_on": "createdOn"}

_HEX_ID: Final = re.compile(r"[0-9A-Fa-f]{32}")
_SHOWN_LENGTH: Final = 70


def _shown(value: object) -> str:
    """The value as it appears in a message, shortened so a pasted essay does not flood Slack."""
    text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else f"{text[: _SHOWN_LENGTH - 1]}…"


def anaplan_id(argument: str, value: object) -> str:
    """A model, revision, task or workspace id: 32 hexadecimal characters, either case."""
    if isinstance(value, str) and _HEX_ID.fullmatch(value):
        return value
    raise InvalidArgument(
        argument,
        f"{argument} {_shown(value)} is not an Anaplan id: an id is 32 hexadecimal characters "
        "(for example 8A2C7E1F0B3D4C5A9E8F7A6B5C4D3E2F).",
    )


def revision_name(value: object) -> str:
    """A revision tag title: non-empty, at most 60 characters (reference §4.4)."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(
            "name", f"name {_shown(value)} is not usable: a revision needs a non-empty name."
        )
    if len(value) > MAX_REVISION_NAME_LENGTH:
        raise InvalidArgument(
            "name",
            f"name {_shown(value)} is {len(value)} characters long: Anaplan allows at most "
            f"{MAX_REVISION_NAME_LENGTH} characters for a revision name.",
        )
    return value


def revision_description(value: object) -> str:
    """A revision tag description: at most 250 characters; empty means none."""
    if not isinstance(value, str):
        raise InvalidArgument("description", f"description {_shown(value)} is not text.")
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise InvalidArgument(
            "description",
            f"description {_shown(value)} is {len(value)} characters long: Anaplan allows at most "
            f"{MAX_DESCRIPTION_LENGTH} characters for a revision description.",
        )
    return value


def online_status(value: object) -> Literal["online", "offline"]:
    """The body of ``onlineStatus``: exactly "online" or "offline"."""
    if value == "online":
        return "online"
    if value == "offline":
        return "offline"
    raise InvalidArgument(
        "status", f"status {_shown(value)} is not a model status: use 'online' or 'offline'."
    )


def sort_parameter(sort_by: object, descending: object) -> str | None:
    """``sort_by``/``descending`` as Anaplan's ``sort`` query value (``+createdOn``, ``-name``…)."""
    if sort_by is None:
        return None
    if not isinstance(sort_by, str) or sort_by not in SORT_FIELDS:
        raise InvalidArgument(
            "sort_by",
            f"sort_by {_shown(sort_by)} is not sortable: use one of {', '.join(SORT_FIELDS)} or None.",
        )
    return f"{'-' if descending else '+'}{SORT_FIELDS[sort_by]}"


def _day(argument: str, value: object) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise InvalidArgument(argument, f"{argument} {_shown(value)} is not a date (use datetime.date).")
    return value.isoformat()


def revision_window(applied_after: date | None, applied_before: date | None) -> dict[str, str | int]:
    """``appliedAfter``/``appliedBefore`` as Anaplan wants them (``YYYY-MM-DD``, after < before)."""
    query: dict[str, str | int] = {}
    if applied_after is not None:
        query["appliedAfter"] = _day("applied_after", applied_after)
    if applied_before is not None:
        query["appliedBefore"] = _day("applied_before", applied_before)
    if len(query) == 2 and str(query["appliedAfter"]) >= str(query["appliedBefore"]):
        raise InvalidArgument(
            "applied_after",
            f"applied_after {query['appliedAfter']} must be an earlier day than applied_before "
            f"{query['appliedBefore']}.",
        )
    return query


def positive_limit(limit: object) -> int | None:
    """How many items to read at most: None (all) or a positive whole number."""
    if limit is None or (isinstance(limit, int) and not isinstance(limit, bool) and limit > 0):
        return limit
    raise InvalidArgument(
        "limit", f"limit {_shown(limit)} is not usable: give a positive whole number or None."
    )


def finished_report_revisions(task: object, operation: str) -> tuple[str, str]:
    """Target and source revision ids of a finished, successful report task (target first)."""
    if not isinstance(task, CompletedReportTask) or not task.result.successful:
        state = (
            "failed" if isinstance(task, CompletedReportTask) else f"is {getattr(task, 'task_state', '?')}"
        )
        raise InvalidArgument(
            "task",
            f"{operation} needs a successfully finished report task, but task "
            f"{getattr(task, 'task_id', '?')} {state}. Wait for it to complete first.",
        )
    target, source = task.result.target_revision_id, task.result.source_revision_id
    if target is None or source is None:
        raise InvalidArgument(
            "task", f"Report task {task.task_id} does not name its target and source revisions."
        )
    return anaplan_id("target_revision_id", target), anaplan_id("source_revision_id", source)


def task_body(source_revision_id: str, source_model_id: str, target_revision_id: str) -> dict[str, str]:
    """The body of the sync and both report-task POSTs: three ids, all required (reference §4.7)."""
    return {
        "sourceRevisionId": anaplan_id("source_revision_id", source_revision_id),
        "sourceModelId": anaplan_id("source_model_id", source_model_id),
        "targetRevisionId": anaplan_id("target_revision_id", target_revision_id),
    }
