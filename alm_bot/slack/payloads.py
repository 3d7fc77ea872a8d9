"""What a verified Slack request says: its body parsed once, and its shape checked before Bolt sees it.

Slack sends three kinds of body to ``/slack/events``: slash commands (a form), interactivity (a form
whose ``payload`` field is a JSON object) and Events API callbacks (a JSON object). `read_request`
parses the body by its Content-Type and checks the fields the listeners read — with their types, so
no listener meets a list where it expects an object. A body that is not what Slack sends raises
`MalformedRequest` (the edge answers 400). Kinds alm-bot has no listener for come back as ``other``
and are acknowledged without being handed on. `read_socket_payload` checks a Socket Mode envelope's
payload — the same bodies, parsed by Slack's SDK — against the same shapes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["MalformedRequest", "RequestKind", "SlackRequest", "read_request", "read_socket_payload"]

RequestKind = Literal[
    "command", "block_actions", "view_submission", "event", "url_verification", "ssl_check", "other"
]
_FORM: Final = "application/x-www-form-urlencoded"
_JSON: Final = "application/json"


class MalformedRequest(ValueError):
    """The body is not a Slack request alm-bot can read; the message says why (for the log)."""


@dataclass(frozen=True)
class SlackRequest:
    """A parsed request: what kind it is, and the body as Bolt expects it."""

    kind: RequestKind
    body: dict[str, Any]


# The default of a field that may be absent but never null: defaults are not validated, values are.
def _absent() -> Any:
    return Field(default=None)


class _Shape(BaseModel):
    # Strict (no "123" → 123) and open (Slack adds fields; only the ones read are checked).
    model_config = ConfigDict(strict=True, extra="allow")


class _IdObject(_Shape):
    id: str | None = None
    enterprise_id: str | None = None


class _ResponseUrl(_Shape):
    response_url: str | None = None


class _FunctionData(_Shape):
    execution_id: str | None = None
    inputs: dict[str, Any] | None = None


class _ViewIds(_Shape):
    app_installed_team_id: str | None = None
    team_id: str | None = None


class _Envelope(_Shape):
    """What Bolt reads of any body to build its context, at every level it looks (its own parser
    trusts Slack's shapes, so a list where it expects an object would raise inside Bolt)."""

    # Objects Bolt reads with ``.get(key, {})``: absent is fine, null is not (hence no ``| None``).
    authorizations: list[_Envelope] = _absent()
    enterprise: str | _IdObject | None = None
    enterprise_id: str | None = None
    context_enterprise_id: str | None = None
    context_team_id: str | None = None
    team: str | _IdObject | None = None
    team_id: str | None = None
    user_team: str | None = None
    user: str | _IdObject | None = None
    user_id: str | None = None
    channel: str | _IdObject | None = None
    channel_id: str | None = None
    thread_ts: str | None = None
    is_enterprise_install: bool | str | None = None
    is_ext_shared_channel: bool | None = None
    # Bolt tests these two with ``in``, so present means "a string" / "a list", never null.
    response_url: str = ""
    response_urls: list[_ResponseUrl] = []
    function_execution_id: str | None = None
    bot_access_token: str | None = None
    function_data: _FunctionData = _absent()
    inputs: dict[str, Any] | None = None
    view: _ViewIds = _absent()
    event: _Envelope = _absent()
    message: _Envelope = _absent()
    previous_message: _Envelope = _absent()
    item: _Envelope = _absent()
    assistant_thread: _Envelope = _absent()


class _SlashCommand(_Shape):
    command: str = Field(min_length=1)
    text: str = ""
    user_id: str = Field(min_length=1)
    user_name: str = ""
    channel_id: str = ""
    response_url: str = Field(min_length=1)
    trigger_id: str = Field(min_length=1)


class _User(_Shape):
    id: str = Field(min_length=1)
    name: str | None = None
    username: str | None = None


class _Action(_Shape):
    action_id: str
    value: str | None = None


class _Container(_Shape):
    channel_id: str | None = None


class _BlockActions(_Shape):
    type: Literal["block_actions"]
    user: _User
    actions: list[_Action] = Field(min_length=1)
    trigger_id: str = Field(min_length=1)
    channel: _IdObject | None = None
    container: _Container | None = None
    response_url: str | None = None


class _Option(_Shape):
    value: str | None = None


class _InputState(_Shape):
    value: str | None = None
    selected_option: _Option | None = None


class _ViewState(_Shape):
    values: dict[str, dict[str, _InputState]] = {}


class _View(_Shape):
    type: str
    callback_id: str
    private_metadata: str = ""
    state: _ViewState = _ViewState()


class _ViewSubmission(_Shape):
    type: Literal["view_submission"]
    user: _User
    view: _View


class _Event(_Shape):
    type: str
    user: str | None = None
    tab: str | None = None


class _HomeOpened(_Event):
    user: str = Field(min_length=1)


class _EventCallback(_Shape):
    type: Literal["event_callback"]
    event: _Event


class _UrlVerification(_Shape):
    type: Literal["url_verification"]
    challenge: str


def read_request(raw: bytes, content_type: str | None) -> SlackRequest:
    """Parse and check a verified body; `MalformedRequest` if it is not a Slack request we read."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8") from None
    media = (content_type or "").split(";")[0].strip().lower()
    if media == _JSON:
        return _json_body(_json_object(text, "the JSON body"))
    if media == _FORM:
        return _form_body(text)
    raise MalformedRequest(f"unexpected Content-Type {media or 'none'!r}")


def read_socket_payload(envelope_type: object, payload: object) -> SlackRequest:
    """Check the payload of a Socket Mode envelope like `read_request` checks an HTTP body."""
    if not isinstance(payload, dict):
        raise MalformedRequest("the envelope's payload is not a JSON object")
    if envelope_type == "slash_commands":
        if not all(isinstance(value, str) for value in payload.values()):
            raise MalformedRequest("a slash command whose fields are not all strings")
        _check(_SlashCommand, payload, "slash command")
        return SlackRequest("command", payload)
    if envelope_type == "interactive":
        return _interactive(payload)
    if envelope_type == "events_api":
        return _json_body(payload)
    return SlackRequest("other", payload)


def _form_body(text: str) -> SlackRequest:
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRequest(f"the form does not parse: {exc}") from None
    if "payload" in form:
        return _interactive(_json_object(form["payload"], "the payload field"))
    if form.get("ssl_check") == "1":
        return SlackRequest("ssl_check", form)
    _check(_SlashCommand, form, "slash command")
    return SlackRequest("command", form)


def _interactive(payload: dict[str, Any]) -> SlackRequest:
    _not_a_command(payload)
    kind = _kind(payload)
    if kind == "block_actions":
        _check(_BlockActions, payload, "block_actions payload")
        return SlackRequest("block_actions", payload)
    if kind == "view_submission":
        _check(_ViewSubmission, payload, "view_submission payload")
        return SlackRequest("view_submission", payload)
    if not isinstance(kind, str):
        raise MalformedRequest("the payload has no type")
    return SlackRequest("other", payload)


def _json_body(body: dict[str, Any]) -> SlackRequest:
    _not_a_command(body)
    kind = _kind(body)
    if kind == "event_callback":
        _check(_EventCallback, body, "event callback")
        if body["event"]["type"] == "app_home_opened":
            _check(_HomeOpened, body["event"], "app_home_opened event")
        return SlackRequest("event", body)
    if kind == "url_verification":
        _check(_UrlVerification, body, "url_verification")
        return SlackRequest("url_verification", body)
    if not isinstance(kind, str):
        raise MalformedRequest("the JSON body has no type")
    return SlackRequest("other", body)


class _Kind(BaseModel):
    """The ``type`` field a Slack body names its kind by; the kind's own shape checks the rest."""

    model_config = ConfigDict(strict=True, extra="ignore")
    type: str | None = None


def _kind(body: dict[str, Any]) -> str | None:
    """The body's ``type``, or None when it has none or it is not a string."""
    try:
        return _Kind.model_validate(body).type
    except ValidationError:
        return None


def _not_a_command(body: dict[str, Any]) -> None:
    # Bolt takes any body with a "command" field for a slash command.
    if "command" in body:
        raise MalformedRequest("a command field outside a slash command form")


def _json_object(text: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise MalformedRequest(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise MalformedRequest(f"{what} is not a JSON object")
    return value


def _check(shape: type[_Shape], value: dict[str, Any], what: str) -> None:
    try:
        _Envelope.model_validate(value)
        shape.model_validate(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top)"
        raise MalformedRequest(f"{what}: {where}: {first['msg']}") from None
