"""Approve / Reject on the approval card, the rejection-reason and data-loss confirmation modals, and
the sync form's submission.

A click is acknowledged at once; the decision itself is the core's (`Operations.decide`), which
refuses — with a sentence to show — clicks by non-approvers, by the requester, after a decision or
after expiry. Refusals are shown privately to the clicker and leave the card as it is; a decision
changes the card through the outbox (the watcher redraws it from the store), never from here.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.errors import AlmBotError, RiskRefused
from alm_bot.slack import approval_view, replies
from alm_bot.slack.bot import Bot
from alm_bot.slack.buttons import APPROVE, REJECT, request_id_of
from alm_bot.slack.delivery import answer, direct_message, tell
from alm_bot.slack.edge import Apologise, after_ack
from alm_bot.slack.formatting import clip
from alm_bot.slack.message import Message
from alm_bot.slack.modals import (
    CONFIRM_MODAL,
    REASON_BLOCK,
    REJECT_MODAL,
    SYNC_MODAL,
    confirm_modal,
    confirmed_request,
    reject_modal,
    submitted_reason,
    sync_form_of,
)

__all__ = ["register_actions"]


def register_actions(app: AsyncApp, bot: Bot) -> None:
    @app.action(APPROVE)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(approve(bot, body, client), _privately(client, body))

    @app.action(REJECT)
    async def on_reject(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(open_rejection(bot, body, client), _privately(client, body))

    @app.view(REJECT_MODAL)
    async def on_rejection(ack: AsyncAck, body: dict[str, Any]) -> None:
        await reject(bot, ack, body)

    @app.view(CONFIRM_MODAL)
    async def on_confirmation(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()  # closes the form; the approval (an Anaplan call) runs after, refusals by DM
        await after_ack(approve_confirmed(bot, body, client), _privately(client, body))

    @app.view(SYNC_MODAL)
    async def on_sync_form(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(request_sync_from_form(bot, body, client), _privately(client, body))


async def approve(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Approve the request on the clicked card; the core starts the change and queues the card update.

    A plan the data-loss radar says destroys data is not approved by the click: the core refuses it
    unconfirmed, and the approver gets the form that names what will be lost (`approve_confirmed`).
    Where ``block_on_risk`` refuses it, an override approver gets the same form with a reason field."""
    actor = await bot.actor(body.get("user"))
    try:
        request_id = request_id_of(_button_value(body))
        groups = await bot.groups.memberships(actor.id)
        decided = await bot.ops.requests.decide(request_id, actor=actor, approve=True, actor_groups=groups)
    except RiskRefused as exc:
        overriding = exc.why == "blocked" and exc.overridable  # an override approver: the form asks why
        if exc.why != "unconfirmed" and not overriding:
            await tell(client, actor.id, replies.error_message(exc), channel=_channel_of(body))
            return
        request = await bot.ops.get_request(exc.request_id)
        form = confirm_modal(request, exc.losses, override=overriding)
        await client.views_open(trigger_id=body["trigger_id"], view=form)
        return
    except AlmBotError as exc:
        await tell(client, actor.id, replies.error_message(exc), channel=_channel_of(body))
        return
    if decided.state == "pending":  # counted, but the policy wants more: say so, the card shows it too
        counted = approval_view.counted_reply(decided, await bot.ops.approvals.progress(decided))
        await tell(client, actor.id, counted, channel=_channel_of(body))


async def approve_confirmed(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """The approver confirmed the loss in the form: now the approval counts (and is audited so)."""
    actor = await bot.actor(body.get("user"))
    try:
        request_id, override_reason = confirmed_request(body.get("view") or {})
        groups = await bot.groups.memberships(actor.id)
        decided = await bot.ops.requests.decide(
            request_id,
            actor=actor,
            approve=True,
            actor_groups=groups,
            confirmed_risk=True,
            override_risk_reason=override_reason,
        )
    except AlmBotError as exc:
        await direct_message(client, actor.id, replies.error_message(exc))
        return
    if decided.state == "pending":  # counted, but the policy wants more
        counted = approval_view.counted_reply(decided, await bot.ops.approvals.progress(decided))
        await direct_message(client, actor.id, counted)


async def open_rejection(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Ask for a reason — but only someone the core would let decide gets the form."""
    actor = await bot.actor(body.get("user"))
    try:
        groups = await bot.groups.memberships(actor.id)
        # The core's own rule, asked up front so nobody writes a reason only to be refused.
        request = await bot.ops.requests.check_may_decide(
            request_id_of(_button_value(body)), actor=actor, actor_groups=groups
        )
    except AlmBotError as exc:
        await tell(client, actor.id, replies.error_message(exc), channel=_channel_of(body))
        return
    await client.views_open(trigger_id=body["trigger_id"], view=reject_modal(request))


async def reject(bot: Bot, ack: AsyncAck, body: dict[str, Any]) -> None:
    """Decide before acknowledging (no Anaplan call, just the store), so a refusal shows in the form."""
    actor = await bot.actor(body.get("user"))
    try:
        request_id, reason = submitted_reason(body.get("view") or {})
        groups = await bot.groups.memberships(actor.id)
        await bot.ops.requests.decide(
            request_id, actor=actor, approve=False, reason=reason, actor_groups=groups
        )
    except AlmBotError as exc:
        await ack(response_action="errors", errors={REASON_BLOCK: clip(str(exc), 1000)})
        return
    await ack()


async def request_sync_from_form(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Request the sync picked in the form; answer where ``/alm sync`` was typed, else by DM."""
    form = sync_form_of(body.get("view") or {})
    actor = await bot.actor(body.get("user"))
    try:
        outcome = await bot.ops.requests.request_sync(form.source, form.target, form.revision, actor=actor)
        message = replies.request_outcome(outcome, bot.settings.approval)
    except AlmBotError as exc:
        message = replies.error_message(exc)
    await _reply_to_form(client, body, message)


async def _reply_to_form(client: AsyncWebClient, body: dict[str, Any], message: Message) -> None:
    """Answer where ``/alm sync`` was typed (its response_url), else in a direct message."""
    form = sync_form_of(body.get("view") or {})
    if form.response_url:
        await answer(form.response_url, message)
    else:
        await direct_message(client, str((body.get("user") or {}).get("id")), message)


def _privately(client: AsyncWebClient, body: dict[str, Any]) -> Apologise:
    """How to tell the person who clicked or submitted something, privately."""

    async def tell_them(message: Message) -> None:
        if body.get("type") == "view_submission":
            await _reply_to_form(client, body, message)
        else:
            user_id = str((body.get("user") or {}).get("id"))
            await tell(client, user_id, message, channel=_channel_of(body))

    return tell_them


def _button_value(body: dict[str, Any]) -> str | None:
    actions = body.get("actions") or [{}]
    value = actions[0].get("value")
    return value if isinstance(value, str) else None


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel if isinstance(channel, str) else None
