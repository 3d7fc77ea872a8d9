"""How the core talks outward: notices, written to the outbox, delivered later by a `Notifier`.

The core never calls Slack. When something happens that people must hear about, the core writes an
outbox row *in the same transaction* as the state change (so a notice is never lost and never
invented), and the watcher later hands each row to the `Notifier` that the front end provides
(Slack's posts cards, thread replies and DMs). Delivery is retried with backoff until it works; a
delivered row is never delivered again.

Destinations are strings:

- ``approvals``       the configured approvals channel (the approval card is posted there)
- ``card``            the approval card of the notice's request (update it, or reply in its thread)
- ``user:<id>``       a direct message to that user
- ``channel:<id>``    a message in that channel
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol

from alm_bot.records import NoticePayload
from alm_bot.store import ApprovalRequest

__all__ = [
    "APPROVALS",
    "CARD",
    "NOTICE_KINDS",
    "DeliveryReceipt",
    "Notice",
    "NoticeKind",
    "Notifier",
    "NullNotifier",
    "channel_destination",
    "user_destination",
]

NoticeKind = Literal[
    "approval_needed",  # a request waits for a decision: post the approval card
    "request_updated",  # the request changed (summary arrived, decided, executing, done): refresh the card
    "request_decided",  # approved or rejected: tell the requester
    "request_expired",  # nobody decided in time: card says EXPIRED, tell the requester
    "request_cancelled",  # the requester withdrew it
    "task_progress",  # an Anaplan task moved to a new step
    "task_finished",  # an Anaplan task ended (successfully or not)
    "sync_verified",  # the target of a successful sync was checked: where it is, and whether online
    "release_notes",  # a request succeeded: its release notes in the card's thread
    "comparison_ready",  # a comparison summary/report someone asked for is ready
    "decided_outside_slack",  # a break-glass decision (CLI): the approvers review it
    "card_refused",  # Slack keeps refusing this request's card: tell the requester (DM)
    "notices_recovered",  # Slack accepts notices again after refusing some: tell the approvals channel
    "approval_reminder",  # a request still waits: remind, in the card's thread, who can approve
    "approval_escalated",  # more people may approve now: say so in the thread, DM each of them
]
NOTICE_KINDS: Final[tuple[str, ...]] = NoticeKind.__args__  # type: ignore[attr-defined]

APPROVALS: Final = "approvals"
CARD: Final = "card"


def user_destination(user_id: str) -> str:
    return f"user:{user_id}"


def channel_destination(channel_id: str) -> str:
    return f"channel:{channel_id}"


@dataclass(frozen=True)
class Notice:
    """One outbox row handed to the notifier. ``request`` is the request's state *now*, if any."""

    id: int
    kind: str
    destination: str
    payload: NoticePayload
    request: ApprovalRequest | None = None


@dataclass(frozen=True)
class DeliveryReceipt:
    """What delivery produced that the core must remember.

    ``card_ref``: where the request's card now is, in the notifier's own terms (opaque to the core,
    which stores it on the request and finds the request by it).
    """

    card_ref: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Notifier(Protocol):
    """Delivers notices. Raise any exception to have the row retried later with backoff."""

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None: ...


class NullNotifier:
    """Delivers nothing (used by `alm-bot mcp` without Slack, and by the CLI): rows are marked sent."""

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        return None
