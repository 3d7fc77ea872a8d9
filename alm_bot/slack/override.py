"""Run now: the override of a scheduled request's change window, from its card or ``/alm override``.

The card of a ``scheduled`` request has a "Run now (override)" button. Only someone the core would
let override (``[approval] override_approvers``) gets the form, which asks for the reason; the
submission calls `Operations.override`, which audits it, posts it in the approvals channel and
starts the change after the usual stale-plan check. A refusal shows in the form or privately.
"""

from __future__ import annotations

from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.errors import AlmBotError, InvalidArgument
from alm_bot.slack import replies
from alm_bot.slack.bot import Bot
from alm_bot.slack.buttons import OVERRIDE, request_id_of
from alm_bot.slack.cards import request_title, runs_at_label
from alm_bot.slack.delivery import tell
from alm_bot.slack.edge import after_ack
from alm_bot.slack.formatting import clip, escape
from alm_bot.slack.message import Message, section
from alm_bot.slack.modals import REASON_BLOCK, reason_input, request_modal, submitted_reason
from alm_bot.store import ApprovalRequest

__all__ = ["OVERRIDE_MODAL", "overridden", "override_modal", "register_override"]

OVERRIDE_MODAL: Final = "alm_override_reason"


def register_override(app: AsyncApp, bot: Bot) -> None:
    @app.action(OVERRIDE)
    async def on_override(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(open_override(bot, body, client), _privately(client, body))

    @app.view(OVERRIDE_MODAL)
    async def on_override_reason(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await override(bot, ack, body, client)


async def open_override(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Ask for the reason — only someone the core would let override gets the form."""
    actor = await bot.actor(body.get("user"))
    try:
        value = ((body.get("actions") or [{}])[0]).get("value")
        groups = await bot.groups.memberships(actor.id)
        request = await bot.ops.requests.check_may_override(
            request_id_of(value), actor=actor, actor_groups=groups
        )
    except AlmBotError as exc:
        await tell(client, actor.id, replies.error_message(exc), channel=_channel_of(body))
        return
    await client.views_open(trigger_id=body["trigger_id"], view=override_modal(request))


async def override(bot: Bot, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Check before acknowledging, so a refusal shows in the form; the start follows the ack."""
    actor = await bot.actor(body.get("user"))
    try:
        request_id, reason = submitted_reason(body.get("view") or {})
        groups = await bot.groups.memberships(actor.id)
        await bot.ops.requests.check_may_override(request_id, actor=actor, actor_groups=groups)
        if not reason:
            raise InvalidArgument(
                "reason", "An override needs a reason: the approvers review every override."
            )
    except AlmBotError as exc:
        await ack(response_action="errors", errors={REASON_BLOCK: clip(str(exc), 1000)})
        return
    await ack()

    async def run() -> None:
        try:
            await bot.ops.requests.override(request_id, actor=actor, reason=reason, actor_groups=groups)
        except AlmBotError as exc:  # e.g. it started meanwhile at its window's opening
            await tell(client, actor.id, replies.error_message(exc), channel=None)

    await after_ack(run(), _privately(client, body))


def override_modal(request: ApprovalRequest) -> View:
    question = (
        f"Run *{request.id}* ({escape(request_title(request))}) now instead of at "
        f"{escape(runs_at_label(request))}? It is posted in the approvals channel as an override."
    )
    return request_modal(
        request,
        callback_id=OVERRIDE_MODAL,
        title="Run now (override)",
        submit="Run now",
        blocks=[section(question), reason_input("Reason", "Why can this not wait for the change window?")],
    )


def overridden(request: ApprovalRequest) -> Message:
    """The answer to ``/alm override``: it runs now (or how it ended already)."""
    states = {"executing": "is starting now", "succeeded": "succeeded", "failed": "failed"}
    state = states.get(request.state, request.state)
    text = (
        f"⚠️ Request *{request.id}* ({escape(request_title(request))}) {state} outside its change "
        "window. The override is posted in the approvals channel."
    )
    return Message(f"Request {request.id} runs now (override).", (section(text),))


def _privately(client: AsyncWebClient, body: dict[str, Any]) -> Any:
    async def tell_them(message: Message) -> None:
        await tell(client, str((body.get("user") or {}).get("id")), message, channel=_channel_of(body))

    return tell_them


def _channel_of(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel if isinstance(channel, str) else None
