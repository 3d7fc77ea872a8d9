"""``/alm``: parse the text, acknowledge at once, call the core, answer privately.

Help and usage mistakes are answered in the acknowledgement itself (no I/O, instant). Everything
else is acknowledged first — empty for reads, "working on it…" for changes — and answered through
the command's ``response_url`` once the core is done, so Slack's 3-second limit never matters.
Errors of the core (`AlmBotError`) become an ephemeral message: their text says what to do next;
anything else is a bug, reported by `alm_bot.slack.edge.after_ack`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Final

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.actor import Actor
from alm_bot.errors import AlmBotError
from alm_bot.notify import user_destination
from alm_bot.slack import approval_view, replies
from alm_bot.slack.bot import Bot
from alm_bot.slack.edge import after_ack
from alm_bot.slack.message import Message
from alm_bot.slack.modals import sync_modal
from alm_bot.slack.override import overridden
from alm_bot.slack.parsing import Invocation, UsageError, parse
from alm_bot.slack.releases import release_command
from alm_bot.slack.stats import stats_command
from alm_bot.slack.windows import windows_message

__all__ = ["ALM_COMMAND", "register_commands"]

ALM_COMMAND: Final = "/alm"
_CHANGES: Final = frozenset(
    {"revision", "sync", "release", "compare", "online", "offline", "cancel", "override"}
)
_LIST_FETCH: Final = 100  # rows asked of the store for a list; the first 20 are shown

Handler = Callable[[Bot, Actor, Invocation], Awaitable[Message]]


def register_commands(app: AsyncApp, bot: Bot) -> None:
    @app.command(ALM_COMMAND)
    async def on_alm(
        ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
    ) -> None:
        await handle_alm(bot, ack, command, respond, client)


async def handle_alm(
    bot: Bot, ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    try:
        invocation = parse(command.get("text") or "")
    except UsageError as exc:
        await ack(**replies.error_message(exc).ephemeral())
        return
    if invocation.name == "help":
        await ack(**replies.help_message(invocation.unknown).ephemeral())
        return
    if invocation.name in _CHANGES and invocation.args:
        await ack(text="⏳ Working on it…", response_type="ephemeral")
    else:
        await ack()

    async def apologise(message: Message) -> None:
        await respond(**message.ephemeral())

    if invocation.name == "sync" and not invocation.args:
        await after_ack(_open_sync_form(bot, command, respond, client), apologise)
    else:
        await after_ack(_answer(bot, invocation, command, respond), apologise)


async def _answer(bot: Bot, invocation: Invocation, command: dict[str, Any], respond: AsyncRespond) -> None:
    actor = await bot.people.actor(command["user_id"], command.get("user_name"))
    try:
        message = await _HANDLERS[invocation.name](bot, actor, invocation)
    except AlmBotError as exc:
        message = replies.error_message(exc)
    await respond(**message.ephemeral())


async def _open_sync_form(
    bot: Bot, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient
) -> None:
    try:
        models = await bot.ops.list_models()
    except AlmBotError as exc:
        await respond(**replies.error_message(exc).ephemeral())
        return
    view = sync_modal(models, command.get("response_url"))
    try:
        await client.views_open(trigger_id=command["trigger_id"], view=view)
    except SlackApiError as exc:
        if exc.response.get("error") not in ("expired_trigger_id", "invalid_trigger_id"):
            raise
        text = (
            "Listing the models took too long to open the form. Try /alm sync again, "
            "or type /alm sync <source> <target> [<revision>]."
        )
        await respond(**replies.error_message(text).ephemeral())


# --- one function per subcommand: call the core, render ---------------------------------------------


async def _models(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    return replies.model_list(await bot.ops.list_models(inv.arg(0)), inv.arg(0))


async def _revisions(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0])
    revisions = await bot.ops.get_revisions(model.id, sort_by="created_on", descending=True)
    return replies.revision_list(model.label, revisions)


async def _latest(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0])
    return replies.latest_revision(model.label, await bot.ops.get_latest_revision(model.id))


async def _syncable(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    source, target = await bot.ops.resolve(inv.args[0]), await bot.ops.resolve(inv.args[1])
    revisions = await bot.ops.get_syncable_revisions(source.id, target.id)
    what = f"revisions that {target.label} can take"
    return replies.revision_list(f"{source.label} → {target.label}", revisions, what)


async def _applied(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    models = await bot.ops.get_models_for_revision(inv.args[0], inv.args[1])
    return replies.applied_models(inv.args[1], models)


async def _tasks(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0])
    return replies.task_list(model.label, await bot.ops.get_sync_tasks(model.id))


async def _task(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0])
    return replies.sync_task(model.label, await bot.ops.get_sync_task(model.id, inv.args[1]))


async def _revision(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0])
    revision = await bot.ops.immediate.create_revision(model.id, inv.args[1], inv.arg(2) or "", actor=actor)
    return replies.revision_created(model, revision)


async def _sync(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    outcome = await bot.ops.requests.request_sync(inv.args[0], inv.args[1], inv.arg(2), actor=actor)
    return replies.request_outcome(outcome, bot.settings.approval)


async def _compare(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    started = await bot.ops.immediate.start_comparison(
        inv.args[0],
        inv.args[1],
        inv.arg(2),
        actor=actor,
        full="--full" in inv.flags,
        notify=user_destination(actor.id),
    )
    return replies.comparison_started(started)


async def _online(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    outcome = await bot.ops.requests.request_status_change(inv.args[0], "online", actor=actor)
    return replies.request_outcome(outcome, bot.settings.approval)


async def _offline(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    outcome = await bot.ops.requests.request_status_change(inv.args[0], "offline", actor=actor)
    return replies.request_outcome(outcome, bot.settings.approval)


async def _requests(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    which = (inv.arg(0) or "").casefold()
    if which == "mine":
        found = await bot.ops.list_requests(requester_id=actor.id, limit=_LIST_FETCH)
        heading = "your requests"
    elif which == "pending":
        found = await bot.ops.list_requests(states={"pending"}, limit=_LIST_FETCH)
        heading = "waiting for approval"
    else:
        found = await bot.ops.list_requests(limit=_LIST_FETCH)
        heading = "recent requests"
    return replies.request_list(found, heading, capped=len(found) >= _LIST_FETCH)


async def _cancel(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    return replies.cancelled(await bot.ops.requests.cancel(inv.args[0], actor=actor))


async def _windows(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    return windows_message(bot.ops.scheduling.report(inv.arg(0)))


async def _override(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    groups = await bot.groups.memberships(actor.id)
    reason = " ".join(inv.args[1:])
    return overridden(
        await bot.ops.requests.override(inv.args[0], actor=actor, reason=reason, actor_groups=groups)
    )


async def _policy(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    explained = await bot.ops.explain_policy(inv.args[0])
    return approval_view.policy_message(explained.label, explained.policy, bool(explained.protected))


async def _audit(bot: Bot, actor: Actor, inv: Invocation) -> Message:
    model = await bot.ops.resolve(inv.args[0]) if inv.args else None
    events = await bot.ops.list_audit(model.id if model else None, limit=_LIST_FETCH)
    return replies.audit_list(events, model.label if model else None, capped=len(events) >= _LIST_FETCH)


_HANDLERS: Final[dict[str, Handler]] = {
    "models": _models,
    "revisions": _revisions,
    "latest": _latest,
    "syncable": _syncable,
    "applied": _applied,
    "tasks": _tasks,
    "task": _task,
    "revision": _revision,
    "sync": _sync,
    "release": release_command,
    "compare": _compare,
    "online": _online,
    "offline": _offline,
    "requests": _requests,
    "cancel": _cancel,
    "windows": _windows,
    "override": _override,
    "audit": _audit,
    "policy": _policy,
    "stats": stats_command,
}
