"""``/alm release`` and the buttons of a blocked release (Drop blocked targets, Cancel request).

``/alm release <source> <target>… [--revision R]`` ships one revision into the targets (one wave,
in parallel); ``/alm release <group>`` ships a configured ``[releases.<group>]`` wave by wave. The
core plans and preflights every target (`Operations.request_release`); a blocked target is shown
with its reason and the requester drops the blocked ones or cancels, with a button.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.actor import Actor
from alm_bot.errors import AlmBotError
from alm_bot.operations.outcomes import RequestOutcome
from alm_bot.operations.release_requests import release_spec
from alm_bot.slack import replies
from alm_bot.slack.bot import Bot
from alm_bot.slack.buttons import request_id_of
from alm_bot.slack.delivery import tell
from alm_bot.slack.edge import Apologise, after_ack
from alm_bot.slack.message import Message
from alm_bot.slack.parsing import Invocation
from alm_bot.slack.release_cards import CANCEL_BLOCKED, DROP_BLOCKED, blocked_reply

__all__ = ["register_release_actions", "release_command"]


async def release_command(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    spec = release_spec(bot.settings, inv.args[0], inv.args[1:], inv.option("--revision"))
    return await _outcome(bot, await bot.ops.releases.request_release(spec, actor=actor))


async def _outcome(bot: Bot, outcome: RequestOutcome) -> Message:
    if outcome.status == "blocked":
        return blocked_reply(outcome.request, await bot.ops.get_runs(outcome.request.id))
    if outcome.status == "cancelled":
        return replies.cancelled(outcome.request)
    return replies.request_outcome(outcome, bot.settings.approval)


def register_release_actions(app: AsyncApp, bot: Bot) -> None:
    @app.action(DROP_BLOCKED)
    async def on_drop(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(_drop_blocked(bot, body, client), _apology(client, body))

    @app.action(CANCEL_BLOCKED)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await after_ack(_cancel(bot, body, client), _apology(client, body))


async def _drop_blocked(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    actor = await bot.actor(body.get("user"))
    try:
        request_id = request_id_of(_value(body))
        blocked = [
            r.target_model_id
            for r in await bot.ops.get_runs(request_id)
            if r.state == "waiting" and r.blocked_reason
        ]
        message = await _outcome(bot, await bot.ops.releases.drop_targets(request_id, blocked, actor=actor))
    except AlmBotError as exc:
        message = replies.error_message(exc)
    await tell(client, actor.id, message, channel=_channel(body))


async def _cancel(bot: Bot, body: dict[str, Any], client: AsyncWebClient) -> None:
    actor = await bot.actor(body.get("user"))
    try:
        message = replies.cancelled(await bot.ops.requests.cancel(request_id_of(_value(body)), actor=actor))
    except AlmBotError as exc:
        message = replies.error_message(exc)
    await tell(client, actor.id, message, channel=_channel(body))


def _apology(client: AsyncWebClient, body: dict[str, Any]) -> Apologise:
    async def tell_them(message: Message) -> None:
        await tell(client, str((body.get("user") or {}).get("id")), message, channel=_channel(body))

    return tell_them


def _value(body: dict[str, Any]) -> str | None:
    value = (body.get("actions") or [{}])[0].get("value")
    return value if isinstance(value, str) else None


def _channel(body: dict[str, Any]) -> str | None:
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return channel if isinstance(channel, str) else None
