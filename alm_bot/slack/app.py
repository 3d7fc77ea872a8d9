"""Building the Bolt app, and the two ways Slack reaches it: HTTP (``POST /slack/events``) or Socket Mode.

``build_slack_app(services)`` wires the listeners (commands, buttons and modals, Home tab) to the
core. Over HTTP, `alm_bot.slack.events_endpoint.SlackEvents` stands before Bolt: it verifies each
request's signature on the raw bytes (missing, wrong or stale → 401), refuses bodies Slack does not
send (400) and acknowledges replays and retries without acting; only then a listener runs. Bugs
in listeners are reported by `alm_bot.slack.edge`: logged with a reference, and the user reads
"something went wrong (ref …)" — never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alm_bot.approval_policy import groups_named
from alm_bot.config import Settings
from alm_bot.errors import ConfigError
from alm_bot.services import Services
from alm_bot.slack.actions import register_actions
from alm_bot.slack.bot import Bot
from alm_bot.slack.commands import register_commands
from alm_bot.slack.edge import report_before_ack
from alm_bot.slack.events_endpoint import SlackEvents
from alm_bot.slack.groups import ApproverGroups
from alm_bot.slack.home import register_home
from alm_bot.slack.override import register_override
from alm_bot.slack.people import People
from alm_bot.slack.releases import register_release_actions
from alm_bot.slack.socket_edge import CheckedSocketModeHandler
from alm_bot.store import ReplayGuard

__all__ = [
    "SLACK_EVENTS_PATH",
    "build_slack_app",
    "slack_client",
    "slack_events_endpoint",
    "slack_events_route",
    "socket_mode_handler",
]

SLACK_EVENTS_PATH = "/slack/events"
SLACK_WEB_API = "https://slack.com/api/"
"""Where Slack's Web API lives unless ``SLACK_API_URL`` says otherwise (tests: a fake Slack)."""
log = logging.getLogger("alm_bot.slack")


def slack_client(settings: Settings) -> AsyncWebClient:
    """The Web API client for ``settings`` (bot token, ``SLACK_API_URL``)."""
    if settings.slack_bot_token is None:
        raise ConfigError(["SLACK_BOT_TOKEN: is missing: the Slack front end needs the bot token (xoxb-…)"])
    return AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url or SLACK_WEB_API
    )


def build_slack_app(services: Services, *, client: AsyncWebClient | None = None) -> AsyncApp:
    """The Bolt app for the core's services: ``/alm``, the card's buttons, the modals, the Home tab."""
    settings = services.settings
    client = client or slack_client(settings)
    app = AsyncApp(
        client=client,
        signing_secret=_secret(settings.slack_signing_secret),
        logger=logging.getLogger("alm_bot.slack.bolt"),
    )
    bot = Bot(
        ops=services.ops,
        settings=settings,
        people=People(client),
        groups=ApproverGroups(client, _groups_to_look_up(settings)),
    )
    register_commands(app, bot)
    register_actions(app, bot)
    register_release_actions(app, bot)
    register_override(app, bot)
    register_home(app, bot)
    app.error(report_before_ack)
    return app


def slack_events_endpoint(app: AsyncApp, services: Services) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint for ``POST /slack/events`` (HTTP mode); replays are remembered in the store."""
    secret = _secret(services.settings.slack_signing_secret)
    return SlackEvents(app, secret, ReplayGuard(services.store)).handle


def slack_events_route(app: AsyncApp, services: Services) -> Route:
    """``POST /slack/events`` as a Starlette route, ready to mount."""
    return Route(SLACK_EVENTS_PATH, slack_events_endpoint(app, services), methods=["POST"])


def socket_mode_handler(app: AsyncApp, settings: Settings) -> CheckedSocketModeHandler:
    """Socket Mode (``SLACK_APP_TOKEN``): ``await h.connect_async()`` to start, ``await h.close_async()``."""
    if settings.slack_app_token is None:
        raise ConfigError(["SLACK_APP_TOKEN: is missing: Socket Mode needs an app-level token (xapp-…)"])
    return CheckedSocketModeHandler(app, app_token=settings.slack_app_token.get_secret_value())


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value is not None else ""


def _groups_to_look_up(settings: Settings) -> list[str]:
    """The groups any policy names, and the user groups among the override approvers (``S…`` ids)."""
    override_groups = [g for g in settings.approval.override_approvers if g.startswith("S")]
    return list(dict.fromkeys([*groups_named(settings), *override_groups]))
