"""Requests *from* Slack *to* the bot, built and signed the way Slack does, for offline tests.

Slack signs every HTTP request it sends to an app (scheme v0):
``X-Slack-Signature = "v0=" + hex(HMAC-SHA256(signing_secret, f"v0:{timestamp}:{raw_body}"))``.
Sign exactly the string you send (``httpx2 ... content=body``), never a dict re-encoded later.

Each kind of request comes in two shapes:

* ``*_payload(...) -> dict`` — what Socket Mode envelopes carry (``FakeSlack.socket_send``);
* ``*_body(...) -> str`` — the HTTP body Slack POSTs to ``/slack/events`` (form-encoded for slash
  commands and interactivity, JSON for Events API callbacks); pass it to :func:`sign`.

Defaults name one small workspace (team ``T0TEAM``, requester ``U0REQUESTER``/``ada`` in ``C0GENERAL``)
so tests only spell out what they care about. ``response_url`` is always required: the bot POSTs to it,
and only the test knows a safe loopback URL (``FakeSlack.response_url(name)``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

__all__ = [
    "API_APP_ID",
    "TEAM_ID",
    "block_actions_body",
    "block_actions_payload",
    "event_body",
    "event_payload",
    "sign",
    "slash_command_body",
    "slash_command_payload",
    "view_submission_body",
    "view_submission_payload",
]

TEAM_ID = "T0TEAM"
_INVOCATIONS = itertools.count(1)
API_APP_ID = "A0ALMBOT"
_TEAM_DOMAIN = "fake-team"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def sign(body: str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack would send with ``body``: timestamp, v0 signature and a matching Content-Type.

    ``timestamp`` defaults to now; pass an old one to test the 5-minute replay window.
    The Content-Type follows the body: JSON bodies (Events API) start with ``{``, the rest are forms.
    """
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{stamp}:{body}".encode()
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "Content-Type": JSON if body.lstrip().startswith("{") else FORM,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
    }


# ---- slash commands -------------------------------------------------------------------------


def slash_command_payload(
    text: str,
    *,
    response_url: str,
    user_id: str = "U0REQUESTER",
    user_name: str = "ada",
    channel_id: str = "C0GENERAL",
    channel_name: str = "general",
    command: str = "/alm",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, str]:
    """The fields of a slash command invocation (all strings, as Slack sends them)."""
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "team_domain": _TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": API_APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id("1111.2222.slash"),
    }


def slash_command_body(text: str, *, response_url: str, **fields: str) -> str:
    """Form-encoded slash command body; keyword arguments as in :func:`slash_command_payload`."""
    return urlencode(slash_command_payload(text, response_url=response_url, **fields))


# ---- interactivity: buttons ---------------------------------------------------------------


def block_actions_payload(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str,
    user_name: str | None = None,
    block_id: str | None = None,
    message: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``block_actions`` payload: one button click on the message ``message_ts`` in ``channel_id``.

    ``message`` is the clicked message as Slack echoes it (pass the blocks the bot posted, so handlers
    that read them see real content); by default a minimal bot message with that ts.
    """
    clicked = message if message is not None else {"type": "message", "ts": message_ts, "text": ""}
    return {
        "type": "block_actions",
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "team": {"id": team_id, "domain": _TEAM_DOMAIN},
        "user": {
            "id": user_id,
            "username": user_name or user_id.lower(),
            "name": user_name or user_id.lower(),
            "team_id": team_id,
        },
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel_id,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id or _trigger_id("3333.4444.action"),
        "channel": {"id": channel_id, "name": channel_id.lower()},
        "message": {"ts": message_ts, **clicked},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": action_id,
                "block_id": block_id or "actions",
                "value": value,
                "text": {"type": "plain_text", "text": action_id},
                "action_ts": f"{int(time.time())}.000000",
            }
        ],
    }


def block_actions_body(action_id: str, value: str, **fields: Any) -> str:
    """Form body ``payload=<json>``; keyword arguments as in :func:`block_actions_payload`."""
    return _payload_form(block_actions_payload(action_id, value, **fields))


# ---- interactivity: modal submissions --------------------------------------------------------


def view_submission_payload(
    callback_id: str,
    values: dict[str, dict[str, Any]],
    *,
    user_id: str,
    user_name: str | None = None,
    private_metadata: str = "",
    view_id: str = "V0000000001",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
) -> dict[str, Any]:
    """A ``view_submission`` payload for the modal ``callback_id``.

    ``values`` is ``{block_id: {action_id: state}}`` as in ``view.state.values``; a plain string state
    is shorthand for a ``plain_text_input`` holding that text.
    """
    state = {
        block_id: {action_id: _input_state(v) for action_id, v in actions.items()}
        for block_id, actions in values.items()
    }
    return {
        "type": "view_submission",
        "api_app_id": API_APP_ID,
        "token": "legacy-verification-token",
        "team": {"id": team_id, "domain": _TEAM_DOMAIN},
        "user": {
            "id": user_id,
            "username": user_name or user_id.lower(),
            "name": user_name or user_id.lower(),
            "team_id": team_id,
        },
        "trigger_id": trigger_id or _trigger_id("5555.6666.view"),
        "view": {
            "id": view_id,
            "team_id": team_id,
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "title": {"type": "plain_text", "text": callback_id},
            "blocks": [],
            "state": {"values": state},
            "hash": "1700000000.hash",
            "app_id": API_APP_ID,
        },
        "response_urls": [],
    }


def view_submission_body(callback_id: str, values: dict[str, dict[str, Any]], **fields: Any) -> str:
    """Form body ``payload=<json>``; keyword arguments as in :func:`view_submission_payload`."""
    return _payload_form(view_submission_payload(callback_id, values, **fields))


# ---- Events API ---------------------------------------------------------------------------


def event_payload(event: dict[str, Any], *, team_id: str = TEAM_ID) -> dict[str, Any]:
    """An ``event_callback`` wrapping ``event``.

    For example ``event_payload({"type": "app_home_opened", "user": "U0REQUESTER", "tab": "home"})``.
    """
    return {
        "token": "legacy-verification-token",
        "team_id": team_id,
        "api_app_id": API_APP_ID,
        "event": {"event_ts": f"{int(time.time())}.000100", **event},
        "type": "event_callback",
        "event_id": "Ev0000000001",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": team_id, "user_id": "U0ALMBOT", "is_bot": True}],
    }


def event_body(event: dict[str, Any], **fields: Any) -> str:
    """JSON body of an Events API callback; :func:`sign` sends it as ``application/json``."""
    return json.dumps(event_payload(event, **fields))


def _trigger_id(prefix: str) -> str:
    """A fresh trigger id, as Slack gives every invocation its own: two requests are never the same
    bytes, so the bot's replay guard tells a second click from a replay of the first."""
    return f"{prefix}.{next(_INVOCATIONS)}"


def _payload_form(payload: dict[str, Any]) -> str:
    # Interactivity arrives as a form with a single field holding the JSON payload.
    return urlencode({"payload": json.dumps(payload)})


def _input_state(value: Any) -> Any:
    return {"type": "plain_text_input", "value": value} if isinstance(value, str) else value
