"""The link to Slack, kept up in the background: Slack can fail, the product cannot.

`SlackLink.run()` is one of serve's background tasks. It never blocks start-up: `/healthz` and
`/mcp` answer while it connects. It checks the bot token (``auth.test``) and, in Socket Mode, opens
the websocket with the app-level token; when that fails or the connection drops it tries again
with capped exponential backoff. Each change of state is one log line (not a traceback per
attempt). A token Slack rejects (``invalid_auth``, ``not_authed``, ``account_inactive``, …) is a
configuration error: reported once, never retried — a restart with a good token is the fix.

``link.state`` is what ``/healthz`` shows (``ok``, ``connecting``, ``down (reason)``,
``fatal (reason)``); ``link.accepts_posts`` tells the watcher whether to try delivering notices.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

import aiohttp
import anyio
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.backoff import Backoff
from alm_bot.slack.socket_edge import CheckedSocketModeHandler

__all__ = ["FATAL_ERRORS", "SlackLink", "SlackState"]

log = logging.getLogger("alm_bot.slack.link")

FATAL_ERRORS: Final = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "not_allowed_token_type",
        "invalid_token",
    }
)
"""Answers that no retry can change: the token is wrong, revoked or of the wrong kind."""

# The SDK's Socket Mode client logs a traceback per failed attempt; this link logs state changes.
_SDK_LOG = logging.getLogger("alm_bot.slack.socket_mode_sdk")
_SDK_LOG.setLevel(logging.CRITICAL)

Status = Literal["connecting", "ok", "down", "fatal"]


@dataclass(frozen=True)
class SlackState:
    """Where the link stands; ``str()`` is what health and the log show."""

    status: Status
    reason: str = ""

    def __str__(self) -> str:
        return f"{self.status} ({self.reason})" if self.reason else self.status


class SlackLink:
    """Checks Slack and, with ``app_token``, holds the Socket Mode connection; see the module docstring."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        app: AsyncApp | None = None,
        app_token: str | None = None,
        attempt_timeout: float = 10.0,
        backoff_max: float = 60.0,
        recheck_every: float = 60.0,
    ) -> None:
        self._client = client
        self._app = app
        self._app_token = app_token
        self._attempt_timeout = attempt_timeout
        self._backoff_max = backoff_max
        self._recheck_every = recheck_every
        self.state = SlackState("connecting")
        self.api_ok = False  # the last auth.test passed: notices can be posted

    @property
    def socket_mode(self) -> bool:
        return self._app_token is not None

    @property
    def accepts_posts(self) -> bool:
        """Whether delivering notices is worth trying (the bot token works and Slack answers)."""
        return self.api_ok

    async def run(self) -> None:
        """Keep the link up until cancelled (or until Slack refuses the configuration)."""
        failures = 0
        while True:
            try:
                if self.socket_mode:
                    await self._hold_socket()
                    reason = "connection lost"
                else:
                    await self._check_api()
                    failures = 0
                    await anyio.sleep(self._recheck_every)
                    continue
            except _Refused as refused:
                self._fatal(refused)
                return
            except SlackApiError as exc:
                reason = str(exc.response.get("error") or "error")
            except TimeoutError:
                reason = f"no answer within {self._attempt_timeout:g}s"
            except (aiohttp.ClientError, SlackClientError, OSError) as exc:
                reason = f"cannot reach Slack: {exc or type(exc).__name__}"
            if self.state.status == "ok":
                failures = 0  # it worked until now: the first retry comes quickly
            failures += 1
            self._change(SlackState("down", reason))
            await anyio.sleep(Backoff(min(2.0, self._backoff_max), 2.0, self._backoff_max).delay(failures))

    async def _check_api(self) -> None:
        with anyio.fail_after(self._attempt_timeout):
            await self._auth_test()
        self._change(SlackState("ok"))

    async def _auth_test(self) -> None:
        self.api_ok = False
        with _refusal_of("SLACK_BOT_TOKEN"):
            await self._client.auth_test()
        self.api_ok = True

    async def _hold_socket(self) -> None:
        """Connect once (bounded), then watch the connection until it drops."""
        assert self._app is not None
        assert self._app_token is not None
        handler = CheckedSocketModeHandler(self._app, app_token=self._app_token, logger=_SDK_LOG)
        socket = handler.client
        # Reconnecting is this link's job: the SDK's own loop retries forever, a traceback a time.
        socket.auto_reconnect_enabled = socket.default_auto_reconnect_enabled = False
        try:
            with anyio.fail_after(self._attempt_timeout):
                await self._auth_test()
                with _refusal_of("SLACK_APP_TOKEN"):
                    socket.wss_uri = await socket.issue_new_wss_url()
                await socket.connect()  # type: ignore[no-untyped-call]
            self._change(SlackState("ok"))
            # The SDK offers no event for a dropped connection: look once a second (cheap, local).
            connected = True
            while connected:
                await anyio.sleep(1.0)
                connected = await socket.is_connected()
        finally:
            with anyio.CancelScope(shield=True), anyio.move_on_after(3):
                await socket.close()  # type: ignore[no-untyped-call]

    def _change(self, state: SlackState) -> None:
        if state == self.state:
            return
        self.state = state
        if state.status == "ok":
            log.info("Slack: ok (%s)", "Socket Mode connected" if self.socket_mode else "the bot token works")
        else:
            log.warning("Slack: %s; trying again with backoff (at most %gs apart)", state, self._backoff_max)

    def _fatal(self, refused: _Refused) -> None:
        self.api_ok = False
        self.state = SlackState("fatal", f"{refused.error}: check {refused.variable}")
        log.error(
            "Slack configuration error: Slack answered %s to %s; Slack stays off until alm-bot is restarted "
            "with a working token (MCP, the watcher and /healthz carry on)",
            refused.error,
            refused.variable,
        )


class _Refused(Exception):
    """Slack refused a token: no retry can help."""

    def __init__(self, error: str, variable: str) -> None:
        super().__init__(f"{error} ({variable})")
        self.error, self.variable = error, variable


@contextlib.contextmanager
def _refusal_of(variable: str) -> Iterator[None]:
    """Turn Slack's answer that the token in ``variable`` is no good into `_Refused`."""
    try:
        yield
    except SlackApiError as exc:
        error = str(exc.response.get("error"))
        if error in FATAL_ERRORS:
            raise _Refused(error, variable) from None
        raise
