"""Property: any Socket Mode payload is either refused as malformed or of a shape the listeners read."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from alm_bot.slack.payloads import MalformedRequest, read_socket_payload

_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
_json = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["type", "command", "user", "user_id", "actions", "trigger_id", "response_url", "event", "view", "team"]
)
# Payloads near Slack's: the fields listeners read, with values of any type.
_near_slack = st.dictionaries(_keys, _json, max_size=6) | st.fixed_dictionaries(
    {"type": st.sampled_from(["block_actions", "view_submission", "event_callback"])},
    optional={"user": _json, "actions": _json, "trigger_id": _json, "event": _json, "view": _json},
)
_envelope_types = st.sampled_from(["slash_commands", "interactive", "events_api", "hello", "disconnect"])


@settings(max_examples=200, deadline=None)
@given(envelope_type=_envelope_types, payload=_json | _near_slack)
def test_a_socket_mode_payload_is_refused_cleanly_or_has_the_fields_listeners_read(
    envelope_type: str, payload: Any
) -> None:
    try:
        parsed = read_socket_payload(envelope_type, payload)
    except MalformedRequest:
        return  # refused with a reason for the log: acknowledged, never handed to Bolt
    body = parsed.body
    if parsed.kind == "command":
        assert all(isinstance(body[k], str) and body[k] for k in ("command", "user_id", "trigger_id"))
    elif parsed.kind == "block_actions":
        assert isinstance(body["user"]["id"], str)
        assert body["actions"]
        assert all(isinstance(a["action_id"], str) for a in body["actions"])
    elif parsed.kind == "view_submission":
        assert isinstance(body["view"]["callback_id"], str)
    elif parsed.kind == "event":
        assert isinstance(body["event"]["type"], str)
