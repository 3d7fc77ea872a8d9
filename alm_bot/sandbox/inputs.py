"""Reading what clients send — JSON bodies and query parameters — with Anaplan's 400 messages.

The messages are Anaplan's where the reference quotes them ("Error parsing request body as JSON",
"Unrecognised property detected", "Expected mandatory fields …", the length limits, the date
formats, "Missing 'sourceModelId' request parameter."), and the sandbox's own otherwise.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from alm_bot.sandbox.errors import ApiError

__all__ = [
    "MAX_PAGE_SIZE",
    "Page",
    "RevisionPair",
    "applied_window",
    "flag",
    "json_object",
    "online_status",
    "page",
    "revision_pair",
    "revision_tag",
    "sort_order",
]

MAX_PAGE_SIZE: Final = 5000
NAME_MAX: Final = 60
DESCRIPTION_MAX: Final = 250
_PAIR_FIELDS: Final = ("sourceRevisionId", "sourceModelId", "targetRevisionId")
MISSING_PAIR_FIELDS: Final = (
    "Expected mandatory fields 'sourceRevisionId', 'sourceModelId' and 'targetRevisionId'"
)


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        raise ApiError(400, "Error parsing request body as JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "Error parsing request body as JSON")
    return body


def _only(body: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    if any(key not in allowed for key in body):
        raise ApiError(400, "Unrecognised property detected")


def online_status(raw: bytes) -> str:
    """``{"status": "online" | "offline"}`` and nothing else (reference §4.1)."""
    body = json_object(raw)
    _only(body, ("status",))
    status = body.get("status")
    if status is None:
        raise ApiError(400, "Expected mandatory field 'status'")
    if status not in ("online", "offline"):
        raise ApiError(400, f"Invalid value for 'status': {status!r}. Expected 'online' or 'offline'.")
    return str(status)


def revision_tag(raw: bytes) -> tuple[str, str | None]:
    """``{"name", "description"?}`` of a new revision tag (reference §4.4)."""
    body = json_object(raw)
    _only(body, ("name", "description"))
    name, description = body.get("name"), body.get("description")
    if not isinstance(name, str) or not name.strip():
        raise ApiError(400, "Expected mandatory field 'name'")
    if description is not None and not isinstance(description, str):
        raise ApiError(400, "Revision tag descriptions must be text.")
    if len(name) > NAME_MAX:
        raise ApiError(400, "The title of your revision tag must be 60 characters or fewer.")
    if description is not None and len(description) > DESCRIPTION_MAX:
        raise ApiError(400, "Revision tag descriptions must be 250 characters or fewer.")
    return name, description or None


@dataclass(frozen=True, slots=True)
class RevisionPair:
    """The body of sync, comparison-report and summary-report task requests."""

    source_revision_id: str
    source_model_id: str
    target_revision_id: str


def revision_pair(raw: bytes) -> RevisionPair:
    body = json_object(raw)
    _only(body, _PAIR_FIELDS)
    values = [body.get(name) for name in _PAIR_FIELDS]
    if not all(isinstance(v, str) and v for v in values):
        raise ApiError(400, MISSING_PAIR_FIELDS)
    return RevisionPair(*(str(v) for v in values))


def flag(query: Mapping[str, str], name: str) -> bool:
    return query.get(name, "").lower() == "true"


@dataclass(frozen=True, slots=True)
class Page:
    limit: int
    offset: int


def _non_negative_int(query: Mapping[str, str], name: str, default: int) -> int:
    text = query.get(name)
    if text is None:
        return default
    if not text.isdigit():
        raise ApiError(400, f"Invalid value for '{name}': {text!r}. Expected a non-negative integer.")
    return int(text)


def page(query: Mapping[str, str], cap: int = MAX_PAGE_SIZE) -> Page:
    """``limit``/``offset``; the server caps ``limit`` at ``cap`` (5000) silently, like Anaplan."""
    limit = _non_negative_int(query, "limit", cap)
    if limit == 0:
        raise ApiError(400, "Invalid value for 'limit': '0'. Expected at least 1.")
    return Page(min(limit, cap), _non_negative_int(query, "offset", 0))


def sort_order(query: Mapping[str, str], allowed: tuple[str, ...]) -> tuple[str, bool] | None:
    """``sort=+name`` / ``-name`` / ``name`` → (field, descending); None when not given."""
    text = query.get("sort")
    if not text:
        return None
    # A "+" decoded from an unescaped query string arrives as a space.
    descending = text.startswith("-")
    field = text.lstrip("+- ")
    if field not in allowed:
        raise ApiError(400, f"Invalid sort field '{field}'. Expected one of: {', '.join(allowed)}.")
    return field, descending


def _date(query: Mapping[str, str], name: str) -> float | None:
    text = query.get(name)
    if text is None:
        return None
    try:
        day = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise ApiError(400, "Date query parameter must be of the format 'YYYY-MM-DD'") from None
    if len(text) != len("YYYY-MM-DD"):
        raise ApiError(400, "Date query parameter must be of the format 'YYYY-MM-DD'")
    return day.timestamp()


def applied_window(query: Mapping[str, str]) -> tuple[float | None, float | None]:
    """``appliedAfter``/``appliedBefore`` as the UTC start of each day (after inclusive, before not)."""
    after, before = _date(query, "appliedAfter"), _date(query, "appliedBefore")
    if after is not None and before is not None and after >= before:
        raise ApiError(400, "'appliedAfter' must be an earlier date than 'appliedBefore'")
    return after, before
