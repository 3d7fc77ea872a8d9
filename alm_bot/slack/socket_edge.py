"""The Socket Mode edge: an envelope's payload is shape-checked before Bolt sees it, as over HTTP.

Over HTTP, `events_endpoint` verifies and checks every body (`payloads.read_request`) before Bolt
parses it. In Socket Mode Slack's SDK parses the websocket message and hands Bolt the payload as it
came, so a payload that is not what Slack sends (a list, a number, a block_actions without actions)
would reach Bolt and the listeners. `CheckedSocketModeHandler` checks it with the same shapes
(`payloads.read_socket_payload`) and acknowledges, without acting, what fails them, kinds alm-bot has
no listener for, and Slack's retries of an event it delivered before.
"""

from __future__ import annotations

import logging

from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from alm_bot.slack.payloads import MalformedRequest, read_socket_payload

__all__ = ["CheckedSocketModeHandler"]

log = logging.getLogger("alm_bot.slack")


class CheckedSocketModeHandler(AsyncSocketModeHandler):
    """`AsyncSocketModeHandler` that hands Bolt only payloads of the shapes the listeners read."""

    async def handle(self, client: SocketModeClient, req: SocketModeRequest) -> None:  # type: ignore[override]
        try:
            parsed = read_socket_payload(req.type, req.payload)
        except MalformedRequest as exc:
            log.warning("Socket Mode envelope acknowledged without acting: %s", exc)
            await _acknowledge(client, req)
            return
        if parsed.kind == "other":
            log.info("acknowledged a Socket Mode %r envelope alm-bot does not handle", req.type)
            await _acknowledge(client, req)
            return
        if req.retry_attempt:
            retry = req.retry_attempt
            log.info("Slack retry %s of a %s envelope acknowledged without acting", retry, parsed.kind)
            await _acknowledge(client, req)
            return
        await super().handle(client, req)


async def _acknowledge(client: SocketModeClient, req: SocketModeRequest) -> None:
    await client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
