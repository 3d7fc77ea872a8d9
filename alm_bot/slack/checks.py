"""``alm-bot check``'s Slack rows: is the configured Slack app able to do what alm-bot asks of it?

Each check calls one cheap, read-only Web API method: ``auth.test`` (the bot token, and the scopes
it was granted), ``apps.connections.open`` (the app-level token, Socket Mode only — it only issues a
URL, nothing connects), ``conversations.history`` with ``limit=1`` on the approvals channel (answers
``not_in_channel`` when the bot was not invited; needs a history scope — without it the row says it
could not tell) and ``usergroups.users.list`` for each approver group.
"""

from __future__ import annotations

from typing import Final

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.approval_policy import groups_named
from alm_bot.checks import CheckRow
from alm_bot.config import Settings
from alm_bot.slack.app import SLACK_WEB_API

__all__ = ["REQUIRED_SCOPES", "slack_rows"]

REQUIRED_SCOPES: Final = (
    "commands",
    "chat:write",
    "users:read",
    "usergroups:read",
    "im:write",
    "files:write",
    "im:history",
)
"""The bot scopes the code calls for (manifest.yml lists the same, with why); plus the history scope
of the approvals channel's kind (`history_scope`), to look its own messages up before re-posting."""

_FAILED: Final = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, TimeoutError)
_SECONDS: Final = 10


async def slack_rows(settings: Settings) -> list[CheckRow]:
    """Every Slack row; a single "slack: off" row when no bot token is configured."""
    if settings.slack_bot_token is None:
        return [CheckRow("slack", True, "off (no SLACK_BOT_TOKEN): notices wait in the outbox")]
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url or SLACK_WEB_API,
        timeout=_SECONDS,
    )
    rows = [await _bot_token(client, settings.approval.channel)]
    if not rows[0].ok:
        return rows  # nothing else can be asked with a token Slack refuses
    if settings.slack_app_token is not None:
        rows.append(await _app_token(client, settings.slack_app_token.get_secret_value()))
    elif settings.slack_signing_secret is None:
        rows.append(
            CheckRow("slack mode", False, "set SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN (Socket Mode)")
        )
    channel = settings.approval.channel
    if channel is not None:
        rows.append(await _channel(client, channel))
    rows += [await _group(client, group) for group in groups_named(settings)]
    return rows


def history_scope(channel: str | None) -> tuple[str, ...]:
    """``channels:history`` for a public approvals channel (``C…``), ``groups:history`` for a private one."""
    if channel is None:
        return ()
    return ("groups:history",) if channel.startswith("G") else ("channels:history",)


async def _bot_token(client: AsyncWebClient, channel: str | None) -> CheckRow:
    try:
        answer = await client.auth_test()
    except _FAILED as exc:
        return CheckRow("slack bot token", False, f"auth.test: {_reason(exc)} (check SLACK_BOT_TOKEN)")
    granted = {s.strip() for s in (answer.headers.get("x-oauth-scopes") or "").split(",") if s.strip()}
    missing = [scope for scope in (*REQUIRED_SCOPES, *history_scope(channel)) if scope not in granted]
    who = f"bot {answer.get('user')} in {answer.get('team')}"
    if granted and missing:
        return CheckRow(
            "slack bot token", False, f"{who}, missing scopes: {', '.join(missing)} (reinstall the app)"
        )
    return CheckRow("slack bot token", True, who)


async def _app_token(client: AsyncWebClient, app_token: str) -> CheckRow:
    try:
        await client.apps_connections_open(app_token=app_token)
    except _FAILED as exc:
        return CheckRow(
            "slack app token", False, f"apps.connections.open: {_reason(exc)} (check SLACK_APP_TOKEN)"
        )
    return CheckRow("slack app token", True, "Socket Mode can connect")


async def _channel(client: AsyncWebClient, channel: str) -> CheckRow:
    name = "slack approvals channel"
    try:
        await client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        error = _reason(exc)
        if error == "not_in_channel":
            return CheckRow(name, False, f"the bot is not a member of {channel}: invite it there (/invite)")
        if error in ("missing_scope", "unknown_method"):
            return CheckRow(
                name, True, f"{channel}: membership not checked (the app cannot read its history)"
            )
        return CheckRow(name, False, f"{channel}: {error}")
    except (SlackClientError, aiohttp.ClientError, OSError, TimeoutError) as exc:
        return CheckRow(name, False, f"{channel}: {_reason(exc)}")
    return CheckRow(name, True, f"the bot is a member of {channel}")


async def _group(client: AsyncWebClient, group: str) -> CheckRow:
    try:
        answer = await client.usergroups_users_list(usergroup=group)
    except _FAILED as exc:
        return CheckRow(f"slack group {group}", False, f"usergroups.users.list: {_reason(exc)}")
    users = answer.get("users") or []
    if not users:
        return CheckRow(f"slack group {group}", False, "has no members: nobody can approve through it")
    return CheckRow(f"slack group {group}", True, f"{len(users)} member(s)")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return str(exc) or type(exc).__name__
