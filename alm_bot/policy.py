"""The rules: what needs approval, who may decide, who may cancel. Pure functions, no I/O.

Each check returns nothing or raises an error from ``alm_bot.errors`` that states what was refused
and why, with who may approve (`Approvers`) and the next step as data; each front end words them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from alm_bot.actor import Actor
from alm_bot.anaplan.models import DEPLOYED_STATES
from alm_bot.config import ApprovalConfig, ModelConfig
from alm_bot.errors import (
    Action,
    ApprovalNotConfigured,
    Approvers,
    NextStep,
    NotAllowed,
    Refusal,
    RequestNotPending,
)
from alm_bot.store.tables import ApprovalRequest

__all__ = [
    "approvers_of",
    "check_may_cancel",
    "check_may_decide",
    "needs_approval",
    "require_approvers",
    "require_pending",
]

HOW_TO_CONFIGURE = (
    "Name approvers in the TOML file that the ALM_BOT_CONFIG environment variable points to: "
    'under [approval], set approvers = ["U…"] (Slack user ids) and/or approver_groups = ["S…"] '
    '(Slack user-group ids), and channel = "C…" for the approval cards.'
)


def needs_approval(model_config: ModelConfig | None, active_state: str) -> bool:
    """Changes need a second person when the model is configured protected or is deployed."""
    protected = model_config is not None and model_config.protected
    return protected or active_state in DEPLOYED_STATES


def require_approvers(approval: ApprovalConfig, approvers: Approvers | None = None) -> None:
    """Fail closed: a protected change with nobody to approve it is refused.

    ``approvers``: who the target's policy names (`alm_bot.approval_policy`); by default ``[approval]``'s.
    """
    if not (approvers.anyone if approvers is not None else approval.configured):
        raise ApprovalNotConfigured(
            f"This model is protected, so the change needs approval, but no approvers are configured. "
            f"{HOW_TO_CONFIGURE}"
        )


def approvers_of(approval: ApprovalConfig) -> Approvers:
    """Who can approve, as data: the configured user ids and user-group ids."""
    return Approvers(tuple(approval.approvers), tuple(approval.approver_groups))


def check_may_decide(
    request: ApprovalRequest,
    actor: Actor,
    actor_groups: Collection[str],
    approval: ApprovalConfig,
    now: datetime,
    *,
    approvers: Approvers | None = None,
) -> None:
    """Refuse unless ``actor`` may approve or reject ``request`` now.

    ``actor_groups`` are the Slack user groups the actor belongs to. ``approvers``: who may decide
    under the request's policy (`alm_bot.approval_policy`); by default those of ``[approval]``.
    """
    require_pending(request, now)
    approvers = approvers if approvers is not None else approvers_of(approval)
    if actor.origin == "mcp":
        raise NotAllowed(
            f"Request {request.id} must be approved or rejected by a person in Slack, not through an "
            "assistant.",
            reason=Refusal.ASSISTANT_CANNOT_DECIDE,
            request_id=request.id,
            approvers=approvers,
        )
    if actor.id == request.requester_id and not approval.allow_self_approval:
        raise NotAllowed(
            f"You asked for request {request.id}, so someone else must approve or reject it "
            "(four-eyes rule).",
            reason=Refusal.OWN_REQUEST,
            request_id=request.id,
            approvers=approvers,
            next_step=NextStep(Action.CANCEL_REQUEST, request.id),
        )
    is_named = actor.id in approvers.users
    in_group = not set(actor_groups).isdisjoint(approvers.groups)
    if not (is_named or in_group):
        raise NotAllowed(
            f"You are not an approver, so you cannot decide request {request.id}.",
            reason=Refusal.NOT_AN_APPROVER,
            request_id=request.id,
            approvers=approvers,
        )


def check_may_cancel(request: ApprovalRequest, actor: Actor, now: datetime | None = None) -> None:
    """Refuse unless ``actor`` requested ``request`` and it is still pending."""
    if actor.id != request.requester_id:
        raise NotAllowed(
            f"Only the requester, {request.requester_name}, can cancel request {request.id}. "
            "Approvers can reject it instead.",
            reason=Refusal.NOT_THE_REQUESTER,
            request_id=request.id,
        )
    require_pending(request, now)


def require_pending(request: ApprovalRequest, now: datetime | None = None) -> None:
    """Raise ``RequestNotPending`` saying what happened to a request that is no longer pending."""
    expired_by_clock = request.expires_at is not None and now is not None and request.expires_at <= now
    if request.state == "pending" and not expired_by_clock:
        return
    state = "expired" if request.state == "pending" else request.state
    raise RequestNotPending(
        _not_pending_message(request, state), state=state, decided_by=request.decided_by_name
    )


def _not_pending_message(request: ApprovalRequest, state: str) -> str:
    rid, by, at = request.id, request.decided_by_name, _when(request.decided_at)
    if state == "expired":
        return (
            f"Request {rid} EXPIRED{_when(request.expires_at)} without a decision. Ask for the change again."
        )
    if state == "cancelled":
        return f"Request {rid} was cancelled by {by or request.requester_name}{at}."
    if state == "rejected":
        because = f": {request.reason}" if request.reason else ""
        return f"Request {rid} was already rejected by {by or 'an approver'}{at}{because}."
    if state == "requested":
        return f"Request {rid} is still being prepared and is not awaiting approval yet."
    if by is None:  # never approved: an unprotected change, or planning failed
        return f"Request {rid} is not awaiting approval (it is {state})."
    now_state = "" if state == "approved" else f" (it is now {state})"
    return f"Request {rid} was already approved by {by}{at}{now_state}."


def _when(moment: datetime | None) -> str:
    return f" on {moment.astimezone(UTC):%Y-%m-%d at %H:%M} UTC" if moment is not None else ""
