"""Sending a Message somewhere in Slack: a channel, a thread, a DM, privately to one person.

These are the only places that call ``chat.*``; every Slack error propagates (the watcher retries
notices with backoff, listeners let the edge handler report it).
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from alm_bot.slack.message import Message

__all__ = ["answer", "direct_message", "dm_channel", "post", "tell", "update"]


async def post(
    client: AsyncWebClient,
    channel: str,
    message: Message,
    *,
    thread_ts: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> str:
    """Post in a channel (or a thread), with Slack message ``metadata`` if given; returns the ts."""
    response = await client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, metadata=metadata, **message.kwargs()
    )
    return str(response["ts"])


async def update(client: AsyncWebClient, channel: str, ts: str, message: Message) -> None:
    await client.chat_update(channel=channel, ts=ts, **message.kwargs())


async def dm_channel(client: AsyncWebClient, user_id: str) -> str:
    """The id of the direct-message channel with ``user_id`` (opened if needed)."""
    response = await client.conversations_open(users=user_id)
    return str(response["channel"]["id"])


async def direct_message(client: AsyncWebClient, user_id: str, message: Message) -> str:
    return await post(client, await dm_channel(client, user_id), message)


async def tell(client: AsyncWebClient, user_id: str, message: Message, *, channel: str | None) -> None:
    """Tell one person privately: an ephemeral message where they are, else a direct message."""
    if channel:
        await client.chat_postEphemeral(channel=channel, user=user_id, **message.kwargs())
    else:
        await direct_message(client, user_id, message)


async def answer(response_url: str, message: Message) -> None:
    """An ephemeral answer through a ``response_url`` (valid 30 minutes after the command)."""
    webhook = AsyncWebhookClient(response_url)
    response = await webhook.send(**message.ephemeral())
    if response.status_code != 200:
        raise RuntimeError(f"response_url answered {response.status_code}: {response.body[:200]}")
