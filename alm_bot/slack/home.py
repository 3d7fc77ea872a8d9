"""The App Home tab: what waits for your decision, your open requests, and recent syncs.

Published on every ``app_home_opened``, drawn from the store, so it is never stale for long and
needs no state of its own. "Waiting for you" asks the core's own rule (`check_may_decide`) for each
pending request, so it lists exactly what a click would accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from slack_bolt.async_app import AsyncApp
from slack_sdk.models.blocks import Block, DividerBlock, HeaderBlock, PlainTextObject
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.actor import Actor
from alm_bot.errors import AlmBotError
from alm_bot.policy import check_may_decide
from alm_bot.slack.bot import Bot
from alm_bot.slack.card_ref import card_location
from alm_bot.slack.cards import request_title, state_line
from alm_bot.slack.edge import after_ack
from alm_bot.slack.formatting import escape, person, when
from alm_bot.slack.message import context, section
from alm_bot.store import ApprovalRequest

__all__ = ["home_view", "register_home"]

_PER_SECTION: Final = 10
_OPEN_STATES: Final = frozenset({"requested", "pending", "approved", "scheduled", "executing"})
_OUTCOMES: Final = frozenset({"succeeded", "failed", "rejected", "expired", "cancelled"})


def register_home(app: AsyncApp, bot: Bot) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        await after_ack(_publish(bot, client, str(event["user"])), apologise=None)


async def _publish(bot: Bot, client: AsyncWebClient, user_id: str) -> None:
    await client.views_publish(user_id=user_id, view=await home_view(bot, user_id))


async def home_view(bot: Bot, user_id: str) -> View:
    """The Home tab of ``user_id``, from the store as it is now."""
    actor = await bot.people.actor(user_id)
    groups = await bot.groups.memberships(user_id)
    pending = await bot.ops.list_requests(states={"pending"}, limit=100)
    waiting = [r for r in pending if _may_decide(bot, r, actor, groups)]
    mine = await bot.ops.list_requests(requester_id=user_id, states=_OPEN_STATES, limit=100)
    recent = await bot.ops.list_requests(states=_OUTCOMES, limit=50)
    syncs = [r for r in recent if r.operation == "sync"]
    is_approver = user_id in bot.settings.approval.approvers or bool(groups)

    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="alm-bot — Anaplan ALM"))]
    if is_approver or waiting:
        blocks += _part("Waiting for your decision", waiting, "Nothing waits for you.", with_card=True)
    blocks += _part("Your open requests", mine, "You have no open requests. Start one with /alm sync.")
    blocks += _part("Recent syncs", syncs, "No syncs yet.")
    blocks.append(context("Type /alm help for every command."))
    return View(type="home", blocks=blocks)


def _may_decide(bot: Bot, request: ApprovalRequest, actor: Actor, groups: frozenset[str]) -> bool:
    try:
        check_may_decide(request, actor, groups, bot.settings.approval, bot.ops.clock())
    except AlmBotError:
        return False
    return True


def _part(
    title: str, requests: Sequence[ApprovalRequest], empty: str, *, with_card: bool = False
) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), section(f"*{title}*")]
    if not requests:
        return [*blocks, context(empty)]
    blocks += [section(_line(r, with_card=with_card)) for r in requests[:_PER_SECTION]]
    if len(requests) > _PER_SECTION:
        blocks.append(context(f"… and {len(requests) - _PER_SECTION} more; see /alm requests."))
    return blocks


def _line(request: ApprovalRequest, *, with_card: bool) -> str:
    who = person(request.requester_id, request.requester_name)
    posted = card_location(request)
    where = f" · card in <#{posted.channel}>" if with_card and posted is not None else ""
    return (
        f"*{request.id}* · {escape(request_title(request))}\n"
        f"by {who} · {when(request.created_at)}{where}\n{state_line(request)}"
    )
