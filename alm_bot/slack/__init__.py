"""The Slack front end: ``/alm`` commands, the approval card and its buttons, the Home tab, notices.

Thin on purpose: parse what people type or click → call `alm_bot.operations.Operations` → render
with ``slack_sdk.models`` blocks. Business rules (who may approve, expiry, stale plans) live in the
core; this package only shows their answers.

Modules: ``app`` (the Bolt app, HTTP endpoint, Socket Mode), ``commands`` (/alm), ``actions``
(buttons and modal submissions), ``home`` (App Home), ``notifier`` (`SlackNotifier`, the core's
outbound notices), renderers ``replies`` / ``cards`` / ``notices`` / ``modals`` on ``message`` and
``formatting``, ``parsing`` (the subcommand table), ``buttons`` (versioned payloads), ``people`` and
``groups`` (cached user names and approver-group memberships), ``delivery`` (chat.* calls),
``once`` (a notice posted once: message metadata, looked up before a re-post). The HTTP edge:
``events_endpoint`` (``POST /slack/events``), ``signature`` (Slack's v0 signature), ``payloads``
(parsing and shape checks), ``edge`` (bugs in listeners).
"""

from alm_bot.slack.app import (
    SLACK_EVENTS_PATH,
    build_slack_app,
    slack_client,
    slack_events_endpoint,
    slack_events_route,
    socket_mode_handler,
)
from alm_bot.slack.notifier import SlackNotifier

__all__ = [
    "SLACK_EVENTS_PATH",
    "SlackNotifier",
    "build_slack_app",
    "slack_client",
    "slack_events_endpoint",
    "slack_events_route",
    "socket_mode_handler",
]
