"""The one error tree of alm-bot.

Every layer raises from this tree; every boundary (Slack, MCP, CLI) translates it into its own
language: an ephemeral Slack message, an MCP ``isError`` result, a CLI exit code with a message.
No error ever carries a password, token or key.

An error states facts and speaks no front end's language: ``message`` says what went wrong in plain
words; who may approve is data (`Approvers`: user and group ids); what to do next is a value
(`NextStep`: an action such as "list the models" and what it acts on). ``error.worded(wording)`` puts
them into one sentence with a front end's `Wording` (Slack: slash commands and mentions; MCP: tool names;
CLI: CLI commands). ``str(error)`` is that sentence in plain words (`PLAIN`), for logs and stored results.
Those facts and the `Wording` protocol live in `alm_bot.error_facts`, re-exported here.

::

    AlmBotError                      base of everything alm-bot raises on purpose
    ├── ConfigError                  configuration invalid; .problems lists every one
    ├── StoreUnavailable             the database does not answer (also a ConnectionError)
    ├── InvalidArgument              a value refused before any request was sent (bad id, name too long)
    ├── AnaplanError                 Anaplan answered with an error, or could not be reached
    │   │                            .status (HTTP code or None), .anaplan_message, .path, .model_id
    │   ├── AuthenticationFailed     401 on login/refresh, bad credentials; └ LoginRequired: log in again
    │   ├── PermissionDenied         403; 424 on report endpoints (Workspace Administrator missing)
    │   ├── NotFound                 404: unknown or inaccessible model, revision, task or report
    │   ├── ModelArchived            422: the model is archived
    │   ├── InvalidRequest           400: Anaplan refused the request; its message is kept
    │   ├── ModelBusy                409: the model is busy (a sync is running into it); .model_id
    │   ├── RateLimited              429 that outlived the retries; .retry_after
    │   ├── AnaplanUnavailable       5xx, timeouts, connection errors that outlived the retries
    │   │   └── TaskCreationUncertain  a task-creating POST failed ambiguously and no task is visible
    │   ├── TaskFailed               a task completed with ``successful: false``; .title, .detail
    │   └── TaskTimeout              waiting for a task passed its deadline; .task is the last state seen
    └── OperationError               alm-bot refused: a business rule of the core
        ├── ModelNotResolved         an alias/id/name matched no model, or several; .candidates
        ├── NothingToSync            the source has no revision the target can take
        ├── ApprovalNotConfigured    a protected change with no approvers configured (fail closed)
        ├── NotAllowed               this actor may not do this; .reason (Refusal), .approvers
        │   └── ApprovalNotCounted   an approval adding nothing (given before, or its stages are met)
        ├── RequestNotFound          no request with that id; .request_id
        ├── RequestNotPending        the request was already decided, expired or cancelled; .state
        ├── StalePlan                the target moved on since the request was planned
        └── RiskRefused              the data-loss radar stops an approval; .why, .losses
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Final

from alm_bot.error_facts import (
    PLAIN,
    Action,
    Approvers,
    NextStep,
    PlainWording,
    Wording,
    approvers_in_words,
)

__all__ = [
    "PLAIN",
    "Action",
    "AlmBotError",
    "AnaplanError",
    "AnaplanUnavailable",
    "ApprovalNotConfigured",
    "ApprovalNotCounted",
    "Approvers",
    "AuthenticationFailed",
    "ConfigError",
    "InvalidArgument",
    "InvalidRequest",
    "LoginRequired",
    "ModelArchived",
    "ModelBusy",
    "ModelNotResolved",
    "NextStep",
    "NotAllowed",
    "NotFound",
    "NothingToSync",
    "OperationError",
    "PermissionDenied",
    "PlainWording",
    "RateLimited",
    "Refusal",
    "RequestNotFound",
    "RequestNotPending",
    "RiskRefused",
    "StalePlan",
    "StoreUnavailable",
    "TaskCreationUncertain",
    "TaskFailed",
    "TaskTimeout",
    "Wording",
    "approvers_in_words",
]


class AlmBotError(Exception):
    """Base of every error alm-bot raises on purpose.

    ``message`` is the fact; ``next_step`` what to do about it; ``str()`` both in plain words.
    """

    def __init__(self, message: str, *, next_step: NextStep | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.next_step = next_step

    def worded(self, wording: Wording) -> str:
        """The whole sentence in a front end's words: the fact, then the next step."""
        parts = [wording.fact(self.message)]
        if self.next_step is not None:
            parts.append(wording.next_step(self.next_step))
        return " ".join(parts)

    def __str__(self) -> str:
        return self.worded(PLAIN)


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

    def __init__(self, argument: str, message: str, *, next_step: NextStep | None = None) -> None:
        self.argument = argument
        super().__init__(message, next_step=next_step)


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

    @property
    def model_id(self) -> str:  # the model in the request path /models/{id}/… (the target), or ""
        return self.path.split("/models/", 1)[1].split("/", 1)[0] if "/models/" in self.path else ""


class AuthenticationFailed(AnaplanError):
    """Anaplan refused the credentials or the token (401 from the auth service)."""


class LoginRequired(AuthenticationFailed):
    """No usable OAuth login (none yet, or its refresh token was refused): only a person can log in again."""


class PermissionDenied(AnaplanError):
    """403 (or 424 on report endpoints): the user lacks the Workspace Administrator role."""


class NotFound(AnaplanError):
    """404: the model, revision, task or report is unknown, inaccessible or expired."""


class ModelArchived(AnaplanError):
    """422: the model is archived; ALM calls on it are refused."""


class InvalidRequest(AnaplanError):
    """400: Anaplan refused the request; ``anaplan_message`` holds its explanation."""


class ModelBusy(AnaplanError):
    """409: another sync or a conflicting action runs on the model; a task-creating POST is not retried."""


class RateLimited(AnaplanError):
    """429 that outlived the retries. ``retry_after`` is Anaplan's hint in seconds, if it sent one."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class AnaplanUnavailable(AnaplanError):
    """5xx, timeout or connection failure that outlived the retries."""


class TaskCreationUncertain(AnaplanUnavailable):
    """A task-creating POST failed ambiguously; not retried (no sync twice). ``candidates`` might be it."""

    def __init__(self, message: str, *, candidates: tuple[str, ...] = (), **kwargs: Any) -> None:
        self.candidates = candidates
        super().__init__(message, **kwargs)


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


_LIST_MODELS: Final = NextStep(Action.LIST_MODELS)


class ModelNotResolved(OperationError):
    """A model reference matched no model, or more than one. ``candidates`` are suggestions."""

    def __init__(
        self,
        message: str,
        *,
        reference: str = "",
        candidates: Sequence[str] = (),
        next_step: NextStep | None = _LIST_MODELS,
    ) -> None:
        self.reference = reference
        self.candidates = list(candidates)
        super().__init__(message, next_step=next_step)


class NothingToSync(OperationError):
    """The source model has no revision that the target can take."""


class ApprovalNotConfigured(OperationError):
    """A protected change was asked for, but no approvers are configured: refused (fail closed)."""


class Refusal(StrEnum):
    """Why `NotAllowed` refused."""

    ASSISTANT_CANNOT_DECIDE = "assistant_cannot_decide"
    OWN_REQUEST = "own_request"
    NOT_AN_APPROVER = "not_an_approver"
    NOT_THE_REQUESTER = "not_the_requester"
    NOT_AN_OVERRIDE_APPROVER = "not_an_override_approver"
    ALREADY_APPROVED = "already_approved"  # ApprovalNotCounted: this person's approval is in
    STAGES_COMPLETE = "stages_complete"  # ApprovalNotCounted: every stage they may approve in is met


class NotAllowed(OperationError):
    """This actor may not do this. ``reason`` says why; ``approvers`` who may, where that helps."""

    def __init__(
        self,
        message: str,
        *,
        reason: Refusal,
        request_id: str = "",
        approvers: Approvers | None = None,
        next_step: NextStep | None = None,
    ) -> None:
        self.reason = reason
        self.request_id = request_id
        self.approvers = approvers
        super().__init__(message, next_step=next_step)

    def worded(self, wording: Wording) -> str:
        parts = [wording.fact(self.message)]
        if self.approvers is not None:
            parts.append(f"Who can approve: {wording.approvers(self.approvers)}.")
        if self.next_step is not None:
            parts.append(wording.next_step(self.next_step))
        return " ".join(parts)


class ApprovalNotCounted(NotAllowed):
    """An approval that adds nothing; ``approvals`` of ``required`` counted, ``approvers`` who still can."""

    def __init__(
        self,
        message: str,
        *,
        reason: Refusal,
        request_id: str,
        approvals: int,
        required: int,
        still_possible: Approvers,
    ) -> None:
        self.approvals, self.required = approvals, required
        super().__init__(message, reason=reason, request_id=request_id, approvers=still_possible)


class RequestNotFound(OperationError):
    """No approval request has that id. ``request_id`` is the id asked for."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"There is no request {request_id}.", next_step=NextStep(Action.LIST_REQUESTS))


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


class RiskRefused(OperationError):
    """The data-loss radar stops this approval. ``why``: ``blocked`` (``block_on_risk`` applies to the
    target), ``unconfirmed`` (nobody confirmed the loss yet) or ``pending`` (blocking applies and the
    verdict is not in yet). ``losses``: the radar's data-loss findings, as plain sentences.
    ``overridable``: blocked, but this person is an override approver and may approve with a reason."""

    def __init__(
        self,
        message: str,
        *,
        why: str,
        request_id: str,
        model_name: str,
        losses: Sequence[str] = (),
        next_step: NextStep | None = None,
        overridable: bool = False,
    ) -> None:
        self.why = why
        self.overridable = overridable
        self.request_id = request_id
        self.model_name = model_name
        self.losses = tuple(losses)
        super().__init__(message, next_step=next_step)
