"""``POST /slack/events``, the HTTP edge: every request gets a clean answer, and only Slack's get acted on.

In this order, each step before anything later reads the request:

1. the signature is verified on the raw bytes (`alm_bot.slack.signature`): otherwise 401;
2. the body is parsed once and its shape checked (`alm_bot.slack.payloads`): otherwise 400;
3. a Slack retry (``X-Slack-Retry-Num``: Slack resends an event it thinks we missed) and kinds of
   request alm-bot has no listener for are acknowledged (200) without acting;
4. a replay — the same signed bytes again inside the 5-minute window — is recognised in the
   database (`alm_bot.store.ReplayGuard`, shared by replicas) and acknowledged without acting;
5. only then Bolt dispatches the parsed body to a listener.

So no body reaches code that could choke on it: nothing here answers 500, and no listener runs on
garbage. Bolt gets the parsed dict (it takes one only in its ``socket_mode``, which differs from
``http`` just by skipping Bolt's own signature check — already done, more strictly, in step 1).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final

from slack_bolt.adapter.starlette.async_handler import to_starlette_response
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from alm_bot.errors import StoreUnavailable
from alm_bot.slack.payloads import MalformedRequest, SlackRequest, read_request
from alm_bot.slack.signature import Signed, verify
from alm_bot.store import ReplayGuard

__all__ = ["SlackEvents"]

log = logging.getLogger("alm_bot.slack.edge")

MAX_BODY_BYTES: Final = 1024 * 1024  # far above anything Slack sends (a modal's state is a few KiB)
_ACTING: Final = frozenset({"command", "block_actions", "view_submission", "event"})
# The only headers Bolt reads from an HTTP request; anything else (e.g. Bolt's internal
# x-slack-bolt-lazy-only) is not the caller's to set.
_FOR_BOLT: Final = ("content-type", "x-slack-request-timestamp", "x-slack-signature")
_DATABASE_DOWN: Final = (
    "alm-bot cannot reach its database right now, so it did nothing. Please try again in a minute."
)


class SlackEvents:
    """The Starlette endpoint for ``POST /slack/events`` of one Bolt app."""

    def __init__(
        self,
        app: AsyncApp,
        signing_secret: str,
        replays: ReplayGuard,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._app = app
        self._secret = signing_secret
        self._replays = replays
        self._clock = clock

    async def handle(self, request: Request) -> Response:
        """Answer one request (the Starlette endpoint)."""
        raw = await request.body()
        if len(raw) > MAX_BODY_BYTES:
            return PlainTextResponse("request body too large", status_code=413)
        headers = request.headers
        signed = verify(
            raw,
            headers.get("x-slack-request-timestamp"),
            headers.get("x-slack-signature"),
            self._secret,
            now=self._clock(),
        )
        if signed is None:
            return PlainTextResponse("invalid or missing Slack signature", status_code=401)
        try:
            parsed = read_request(raw, headers.get("content-type"))
        except MalformedRequest as exc:
            log.warning("refused a signed Slack request that alm-bot cannot read: %s", exc)
            return PlainTextResponse(f"malformed Slack request: {exc}", status_code=400)
        return await self._act(request, signed, parsed)

    async def _act(self, request: Request, signed: Signed, parsed: SlackRequest) -> Response:
        retry = request.headers.get("x-slack-retry-num")
        if retry is not None:
            log.info("Slack retry %s of a %s request acknowledged without acting", retry[:8], parsed.kind)
            return Response(status_code=200)
        if parsed.kind == "other":
            log.info("acknowledged a Slack request of a kind alm-bot does not handle")
            return Response(status_code=200)
        if parsed.kind in _ACTING:
            try:
                first = await self._replays.first_sighting(
                    signed.signature, signed.timestamp, datetime.fromtimestamp(signed.valid_until, UTC)
                )
            except StoreUnavailable as exc:
                log.warning("could not check a Slack request against replays: %s", exc)
                return _database_down(parsed)
            if not first:
                log.warning(
                    "a replayed Slack request (%s, signed at %d) was not acted on",
                    parsed.kind,
                    signed.timestamp,
                )
                return Response(status_code=200)
        headers: dict[str, str | Sequence[str]] = {
            name: request.headers[name] for name in _FOR_BOLT if name in request.headers
        }
        bolt_request = AsyncBoltRequest(body=parsed.body, headers=headers, mode="socket_mode")
        answer = await self._app.async_dispatch(bolt_request)
        if answer.status == 404:  # no listener matched (an old button, a form alm-bot no longer has)
            return Response(status_code=200)
        return to_starlette_response(answer)


def _database_down(parsed: SlackRequest) -> Response:
    """A slash command shows the answer to the person who typed it; other kinds can only be refused."""
    if parsed.kind == "command":
        return JSONResponse({"response_type": "ephemeral", "text": _DATABASE_DOWN})
    return PlainTextResponse(_DATABASE_DOWN, status_code=503)
