"""The one error tree of alm-bot.

Every layer raises from this tree; every boundary (Slack, MCP, CLI) translates it into its own
language: an ephemeral Slack message, an MCP ``isError`` result, a CLI exit code with a message.
``str(error)`` is always a complete, user-facing sentence that says what went wrong and, where
possible, what to do next. No error ever carries a password, token or key.

::

    AlmBotError                      base of everything alm-bot raises on purpose
    ├── ConfigError                  configuration invalid; .problems lists every one
    ├── StoreUnavailable             the database does not answer (also a ConnectionError)
    ├── InvalidArgument              a value refused before any request was sent (bad id, name too long)
    ├── AnaplanError                 Anaplan answered with an error, or could not be reached
    │   │                            .status (HTTP code or None), .anaplan_message, .path
    │   ├── AuthenticationFailed     401 on login/refresh, or bad credentials
    │   ├── PermissionDenied         403; 424 on report endpoints (Workspace Administrator missing)
    │   ├── NotFound                 404: unknown or inaccessible model, revision, task or report
    │   ├── ModelArchived            422: the model is archived
    │   ├── InvalidRequest           400: Anaplan refused the request; its message is kept
    │   ├── RateLimited              429 that outlived the retries; .retry_after
    │   ├── AnaplanUnavailable       5xx, timeouts, connection errors that outlived the retries
    │   │   └── TaskCreationUncertain  a task-creating POST failed ambiguously and no task is visible
    │   ├── TaskFailed               a task completed with ``successful: false``; .title, .detail
    │   └── TaskTimeout              waiting for a task passed its deadline; .task is the last state seen
    └── OperationError               alm-bot refused: a business rule of the core
        ├── ModelNotResolved         an alias/id/name matched no model, or several; .candidates
        ├── NothingToSync            the source has no revision the target can take
        ├── ApprovalNotConfigured    a protected change with no approvers configured (fail closed)
        ├── NotAllowed               this actor may not do this (not an approver, own request, …)
        ├── RequestNotFound          no request with that id
        ├── RequestNotPending        the request was already decided, expired or cancelled; .state
        └── StalePlan                the target moved on since the request was planned
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "AlmBotError",
    "AnaplanError",
    "AnaplanUnavailable",
    "ApprovalNotConfigured",
    "AuthenticationFailed",
    "ConfigError",
    "InvalidArgument",
    "InvalidRequest",
    "ModelArchived",
    "ModelNotResolved",
    "NotAllowed",
    "NotFound",
    "NothingToSync",
    "OperationError",
    "PermissionDenied",
    "RateLimited",
    "RequestNotFound",
    "RequestNotPending",
    "StalePlan",
    "StoreUnavailable",
    "TaskCreationUncertain",
    "TaskFailed",
    "TaskTimeout",
]


class AlmBotError(Exception):
    """Base of every error alm-bot raises on purpose. ``str()`` is the user-facing message."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(AlmBotError):
    """The configuration is invalid. ``problems`` lists every problem, one line each."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"alm-bot configuration is invalid ({len(self.problems)} problem(s)):\n{lines}")


class StoreUnavailable(AlmBotError, ConnectionError):
    """The database does not answer. The message names it, never with its password."""


class InvalidArgument(AlmBotError, ValueError):
    """A value was refused before any request was sent. ``argument`` names the parameter."""

    def __init__(self, argument: str, message: str) -> None:
        self.argument = argument
        super().__init__(message)


# --- Anaplan -------------------------------------------------------------------------------------


class AnaplanError(AlmBotError):
    """Anaplan answered with an error or could not be reached.

    ``status`` is the HTTP status (None when no response came), ``anaplan_message`` is Anaplan's own
    text (may be empty), ``path`` is the request path (never a query string with secrets, never a token).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        anaplan_message: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.anaplan_message = anaplan_message
        self.path = path
        super().__init__(message)


class AuthenticationFailed(AnaplanError):
    """Anaplan refused the credentials or the token (401 from the auth service)."""


class PermissionDenied(AnaplanError):
    """403 (or 424 on report endpoints): the user lacks the Workspace Administrator role."""


class NotFound(AnaplanError):
    """404: the model, revision, task or report is unknown, inaccessible or expired."""


class ModelArchived(AnaplanError):
    """422: the model is archived; ALM calls on it are refused."""


class InvalidRequest(AnaplanError):
    """400: Anaplan refused the request; ``anaplan_message`` holds its explanation."""


class RateLimited(AnaplanError):
    """429 that outlived the retries. ``retry_after`` is Anaplan's hint in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class AnaplanUnavailable(AnaplanError):
    """5xx, timeout or connection failure that outlived the retries."""


class TaskCreationUncertain(AnaplanUnavailable):
    """A task-creating POST failed ambiguously (e.g. timed out after sending) and no task is visible.

    It was deliberately not retried, so that Anaplan never runs the same sync twice.
    """


class TaskFailed(AnaplanError):
    """An Anaplan task completed with ``successful: false``. ``title``/``detail`` are Anaplan's."""

    def __init__(self, title: str, detail: str, *, task_id: str = "", **kwargs: Any) -> None:
        self.title = title
        self.detail = detail
        self.task_id = task_id
        text = f"{title}: {detail}" if detail else title
        super().__init__(f"Anaplan task {task_id} failed — {text}".replace("  ", " "), **kwargs)


class TaskTimeout(AnaplanError):
    """Waiting for a task passed its deadline. ``task`` is the last state seen; the task may still run."""

    def __init__(self, message: str, *, task: object = None, **kwargs: Any) -> None:
        self.task = task
        super().__init__(message, **kwargs)


# --- business rules of the core ------------------------------------------------------------------


class OperationError(AlmBotError):
    """alm-bot refused an operation because of one of its own rules."""


class ModelNotResolved(OperationError):
    """A model reference matched no model, or more than one. ``candidates`` are suggestions."""

    def __init__(self, message: str, *, reference: str = "", candidates: Sequence[str] = ()) -> None:
        self.reference = reference
        self.candidates = list(candidates)
        super().__init__(message)


class NothingToSync(OperationError):
    """The source model has no revision that the target can take."""


class ApprovalNotConfigured(OperationError):
    """A protected change was asked for, but no approvers are configured: refused (fail closed)."""


class NotAllowed(OperationError):
    """This actor may not do this (not an approver, own request, not the requester, …)."""


class RequestNotFound(OperationError):
    """No approval request has that id."""


class RequestNotPending(OperationError):
    """The request is no longer pending. ``state`` is its current state; ``decided_by`` who decided."""

    def __init__(self, message: str, *, state: str, decided_by: str | None = None) -> None:
        self.state = state
        self.decided_by = decided_by
        super().__init__(message)


class StalePlan(OperationError):
    """The target model's latest revision changed since the request was planned; plan again.

    The facts: ``model_id``/``model_name`` of the target, what it was when ``planned`` and what it
    is now (``current``): revision names for a sync, model states for a status change.
    """

    def __init__(
        self, message: str, *, model_id: str = "", model_name: str = "", planned: str = "", current: str = ""
    ) -> None:
        self.model_id = model_id
        self.model_name = model_name
        self.planned = planned
        self.current = current
        super().__init__(message)
