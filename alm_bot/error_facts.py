"""The facts an error carries and how a front end words them: `NextStep`, `Approvers`, `Wording`.

An error of `alm_bot.errors` states facts and speaks no front end's language: who may approve is
data (`Approvers`: user and group ids); what to do next is a value (`NextStep`: an `Action` and what
it acts on). Each front end implements `Wording` (Slack: slash commands and mentions; MCP: tool
names; CLI: CLI commands); `PLAIN` (`PlainWording`) is plain words, for logs and stored results.
`alm_bot.errors` re-exports all of these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Protocol

__all__ = ["PLAIN", "Action", "Approvers", "NextStep", "PlainWording", "Wording", "approvers_in_words"]


class Action(StrEnum):
    """What the person (or assistant) can do next; each front end names it in its own terms."""

    LIST_MODELS = "list_models"
    LIST_REQUESTS = "list_requests"
    LIST_REVISIONS = "list_revisions"  # subject: the model
    CREATE_REVISION = "create_revision"  # subject: the model
    CANCEL_REQUEST = "cancel_request"  # subject: the request id
    CONFIRM_DATA_LOSS = "confirm_data_loss"  # subject: the request id
    OVERRIDE_RISK = "override_risk"  # subject: the request id


@dataclass(frozen=True, slots=True)
class NextStep:
    """The next step as a value: an action and the model or request it acts on (if any)."""

    action: Action
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class Approvers:
    """Who may approve: user ids and user-group ids, as configured (no front end's markup)."""

    users: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def anyone(self) -> bool:
        return bool(self.users or self.groups)


class Wording(Protocol):
    """How a front end words the facts of an error."""

    def fact(self, text: str) -> str:
        """The core's own sentence, made safe for this front end (e.g. escaped for Slack mrkdwn)."""
        ...

    def approvers(self, approvers: Approvers) -> str:
        """Who may approve, e.g. ``U1 or members of group S1``."""
        ...

    def next_step(self, step: NextStep) -> str:
        """A sentence saying what to do next, in this front end's commands."""
        ...


_PLAIN_STEPS: Final = {
    Action.LIST_MODELS: "List the models to see their aliases and ids.",
    Action.LIST_REQUESTS: "List the requests to see recent ones.",
    Action.LIST_REVISIONS: "List the revisions of {subject} to see their names.",
    Action.CREATE_REVISION: "Create a revision on {subject} first.",
    Action.CANCEL_REQUEST: "To withdraw it, cancel request {subject}.",
    Action.CONFIRM_DATA_LOSS: "An approver must confirm the data loss when approving {subject}.",
    Action.OVERRIDE_RISK: "As an override approver you may approve {subject} anyway, with a reason.",
}


class PlainWording:
    """Plain facts and ids as they are; next steps from ``steps`` (templates with ``{subject}``),
    in plain words for any action it leaves out. Bare: for logs, stored results and `str()`."""

    def __init__(self, steps: Mapping[Action, str] | None = None) -> None:
        self._steps = {**_PLAIN_STEPS, **(steps or {})}

    def fact(self, text: str) -> str:
        return text

    def approvers(self, approvers: Approvers) -> str:
        return approvers_in_words(approvers, person=str, group=lambda g: f"group {g}")

    def next_step(self, step: NextStep) -> str:
        return self._steps[step.action].format(subject=step.subject or "it")


PLAIN: Final = PlainWording()


def approvers_in_words(
    approvers: Approvers, *, person: Callable[[str], str], group: Callable[[str], str]
) -> str:
    """``A, B or members of G`` with each id named by ``person`` / ``group``; shared by every wording."""
    people = [person(user) for user in approvers.users]
    if approvers.groups:
        people.append("members of " + _join_or([group(g) for g in approvers.groups]))
    return _join_or(people) if people else "nobody (no approvers are configured)"


def _join_or(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} or {parts[-1]}"
