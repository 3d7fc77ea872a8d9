"""The HTTP edge is total: whatever arrives at ``POST /slack/events``, the answer is clean.

Through the real app (uvicorn, `SlackEvents`, Bolt, the listeners, SQLite): unsigned or wrongly signed
bytes get 401 and nothing runs; signed bodies Slack would never send get 400 (or an acknowledgement
when they are of a kind alm-bot does not handle); a replay of signed bytes, and a Slack retry, are
acknowledged without acting. Never a 500, never a listener traceback, never an apology for a bug.
Hypothesis draws raw bodies, headers and mutated payload shapes.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.routing import Route

from alm_bot.slack.buttons import APPROVE, REJECT, button_value
from alm_bot.slack.events_endpoint import SlackEvents
from alm_bot.slack.modals import REASON_BLOCK, REJECT_MODAL, SYNC_MODAL
from alm_bot.store import ReplayGuard, Store
from tests.live import drain_bolt_listeners, serving
from tests.world import APPROVER, SECRET, World, text_of
from tools.fake_slack import (
    block_actions_payload,
    event_payload,
    slash_command_payload,
    view_submission_payload,
)

pytestmark = pytest.mark.anyio

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
BUG_SIGNS = ("something went wrong", "Traceback", "Internal Server Error")


def signed_headers(body: bytes, content_type: str | None, timestamp: str | None = None) -> dict[str, str]:
    """What Slack sends with ``body``, for any bytes and any Content-Type (or none)."""
    stamp = timestamp if timestamp is not None else str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    return headers | ({"Content-Type": content_type} if content_type is not None else {})


async def post(world: World, body: bytes, headers: dict[str, str]) -> httpx2.Response:
    reply = await world.http.post("/slack/events", content=body, headers=headers)
    await drain_bolt_listeners()  # what a listener does after acknowledging is part of its answer
    return reply


def bugs_shown(world: World, since: int, reply: httpx2.Response) -> list[str]:
    """Every trace of a bug a person could read: in the HTTP answer or anything sent to Slack."""
    shown = [reply.text] + [text_of(call.params) for call in world.fake.calls[since:]]
    return [text for text in shown if any(sign in text for sign in BUG_SIGNS)]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.fixture
def quiet(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO)
    return caplog


# --- unsigned: 401, nothing runs ----------------------------------------------------------------


content_types = st.sampled_from(
    [FORM, JSON, f"{JSON}; charset=utf-8", "text/plain", "multipart/form-data", ""]
)
raw_bodies = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=200).map(str.encode),
    st.sampled_from([b"payload=not-json", b"payload=%5B1%2C2%5D", b"[1,2]", b"\xff\xfe", b"{}", b"null"]),
)


@FUZZ
@given(
    body=raw_bodies, content_type=st.none() | content_types, sign_it=st.sampled_from(["no", "wrong-secret"])
)
async def test_unsigned_bytes_get_401_and_nothing_runs(
    world: World, quiet: pytest.LogCaptureFixture, body: bytes, content_type: str | None, sign_it: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    if sign_it == "wrong-secret":
        stamp = str(int(time.time()))
        digest = hmac.new(b"not-the-secret", f"v0:{stamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers |= {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}
    quiet.clear()
    reply = await post(world, body, headers)
    assert reply.status_code == 401
    assert world.fake.calls == []
    assert tracebacks(quiet) == []


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "1796189588.5", "", "+1796189588", "-1", "1_796_189_588", "1e9", "0x6B0E3C54", "²"],
)
async def test_a_signature_over_a_timestamp_that_is_not_a_plain_integer_fails_verification(
    world: World, timestamp: str
) -> None:
    body = urlencode(slash_command_payload("sync dev prod", response_url=world.fake.response_url())).encode()
    headers = {k: v.encode("latin-1") for k, v in signed_headers(body, FORM, timestamp=timestamp).items()}
    reply = await world.http.post("/slack/events", content=body, headers=headers)
    assert reply.status_code == 401
    assert await world.services.store.list_requests() == []


@pytest.mark.parametrize("skew", [-301, 301, -3600])
async def test_a_signature_outside_the_five_minute_window_fails_verification(world: World, skew: int) -> None:
    body = urlencode(slash_command_payload("help", response_url=world.fake.response_url())).encode()
    reply = await post(world, body, signed_headers(body, FORM, timestamp=str(int(time.time()) + skew)))
    assert reply.status_code == 401
    assert world.fake.calls == []


async def test_an_upper_case_spelling_of_a_valid_signature_is_refused(world: World) -> None:
    # One request, one spelling: otherwise the same bytes could pass the replay guard twice.
    body = urlencode(slash_command_payload("help", response_url=world.fake.response_url())).encode()
    headers = signed_headers(body, FORM)
    headers["X-Slack-Signature"] = "v0=" + headers["X-Slack-Signature"][3:].upper()
    assert (await post(world, body, headers)).status_code == 401


# --- signed but malformed: 400, nothing runs ----------------------------------------------------


RESPONSE_URL = "RESPONSE-URL"  # replaced by a response_url of the fake Slack when sent


def _with_response_url(node: Any, url: str) -> Any:
    if isinstance(node, dict):
        return {k: _with_response_url(v, url) for k, v in node.items()}
    if isinstance(node, list):
        return [_with_response_url(v, url) for v in node]
    return url if node == RESPONSE_URL else node


def _button_payload(**changes: Any) -> dict[str, Any]:
    payload = block_actions_payload(
        APPROVE,
        button_value("R000000"),
        user_id=APPROVER,
        channel_id="C0APPROVALS",
        message_ts="1700000000.000001",
        response_url=RESPONSE_URL,
    )
    return payload | changes


MALFORMED = {
    "non-UTF-8 form": (b"text=\xff\xfe&command=/alm", FORM),
    "non-UTF-8 JSON": (b'{"type": "\xff"}', JSON),
    "a form sent as JSON": (urlencode({"command": "/alm", "text": "help"}).encode(), JSON),
    "payload= not JSON": (b"payload=not-json", FORM),
    "payload= a list": (urlencode({"payload": "[1,2]"}).encode(), FORM),
    "payload= a number": (urlencode({"payload": "123"}).encode(), FORM),
    "payload= null": (urlencode({"payload": "null"}).encode(), FORM),
    "a JSON array body": (b"[1,2]", JSON),
    "block_actions with no actions": (
        urlencode({"payload": json.dumps(_button_payload(actions=[]))}).encode(),
        FORM,
    ),
    "block_actions whose action is a string": (
        urlencode({"payload": json.dumps(_button_payload(actions=["approve"]))}).encode(),
        FORM,
    ),
    "a percent-escape that is not UTF-8": (b"command=%2Falm&text=%FF", FORM),
    "no Content-Type": (b"command=/alm&text=help", None),
    "deeply nested JSON": (b"[" * 100_000 + b"]" * 100_000, JSON),
    "a slash command without its user": (urlencode({"command": "/alm", "text": "help"}).encode(), FORM),
}


@pytest.mark.parametrize(("body", "content_type"), list(MALFORMED.values()), ids=list(MALFORMED))
async def test_a_signed_body_slack_would_never_send_gets_400_and_nothing_runs(
    world: World, quiet: pytest.LogCaptureFixture, body: bytes, content_type: str | None
) -> None:
    reply = await post(world, body, signed_headers(body, content_type))
    assert reply.status_code == 400, reply.text
    assert reply.text.startswith("malformed Slack request: ")
    assert world.fake.calls == []
    assert tracebacks(quiet) == []


# --- signed payload shapes: mutations of what Slack really sends --------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        children = node.items()
    elif isinstance(node, list):
        children = enumerate(node)
    else:
        return []
    return [p for key, value in children for p in [(*prefix, key), *_paths(value, (*prefix, key))]]


# Fields Bolt and the listeners look for; a mutation may add one anywhere.
READ_FIELDS = (
    "command",
    "actions",
    "view",
    "event",
    "type",
    "user",
    "channel",
    "team",
    "message",
    "authorizations",
    "response_url",
    "response_urls",
    "container",
    "state",
    "values",
)


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """``base`` with up to three fields deleted, replaced or added (any JSON value)."""
    result = copy.deepcopy(base)
    if draw(st.booleans()):
        result[draw(st.sampled_from(READ_FIELDS))] = draw(json_values)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        paths = _paths(result)
        if not paths:
            break
        *parent_path, key = draw(st.sampled_from(paths))
        parent: Any = result
        for part in parent_path:
            parent = parent[part]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[key]
        elif action == "add" and isinstance(parent[key], dict):
            parent[key][draw(st.sampled_from(READ_FIELDS))] = draw(json_values)
        else:
            parent[key] = draw(json_values)
    return result


def _interactive_bases() -> list[dict[str, Any]]:
    reason = {REASON_BLOCK: {"value": "not now"}}
    sync = {"source": {"model": {"type": "static_select", "selected_option": {"value": "M0DEV"}}}}
    return [
        _button_payload(),
        _button_payload(actions=[{**_button_payload()["actions"][0], "action_id": REJECT}]),
        view_submission_payload(
            REJECT_MODAL, reason, user_id=APPROVER, private_metadata=button_value("R000000")
        ),
        view_submission_payload(SYNC_MODAL, sync, user_id="U0REQUESTER", private_metadata='{"v": 1}'),
    ]


@dataclass(frozen=True)
class Drawn:
    """A payload as Slack would encode it: a form of fields, a form with ``payload=``, or JSON."""

    encoding: str
    content: dict[str, Any]

    def body(self, response_url: str) -> tuple[bytes, str]:
        content = _with_response_url(self.content, response_url)
        if self.encoding == "form":
            return urlencode(content).encode(), FORM
        if self.encoding == "payload":
            return urlencode({"payload": json.dumps(content)}).encode(), FORM
        return json.dumps(content).encode(), JSON


@st.composite
def signed_bodies(draw: st.DrawFn) -> Drawn:
    """A body built from a (mutated) real payload, encoded the way Slack does (or the wrong way)."""
    kind = draw(st.sampled_from(["command", "interactive", "event"]))
    if kind == "command":
        fields = slash_command_payload(draw(st.text(max_size=30)), response_url=RESPONSE_URL)
        dropped = draw(st.sets(st.sampled_from(sorted(fields)), max_size=3))
        return Drawn("form", {k: v for k, v in fields.items() if k not in dropped})
    if kind == "interactive":
        payload = draw(mutated(draw(st.sampled_from(_interactive_bases()))))
        return Drawn(draw(st.sampled_from(["payload", "json"])), payload)  # json: sent the wrong way
    home = event_payload({"type": "app_home_opened", "user": "U0REQUESTER", "tab": "home"})
    return Drawn("json", draw(mutated(home)))


@FUZZ
@given(body=signed_bodies())
async def test_any_signed_payload_shape_gets_a_clean_answer_and_no_listener_traceback(
    world: World, quiet: pytest.LogCaptureFixture, body: Drawn
) -> None:
    raw, content_type = body.body(world.fake.response_url("fuzz"))
    since = len(world.fake.calls)
    quiet.clear()
    reply = await post(world, raw, signed_headers(raw, content_type))
    assert reply.status_code in (200, 400), reply.text
    assert bugs_shown(world, since, reply) == []
    assert tracebacks(quiet) == []


# Bolt logs a debug line while it builds a request's context from a body with two or more
# response_urls (and no response_url) — before it has set the context's logger: KeyError, 500.
# Slack sends such a list from a modal with several ``response_url_enabled`` conversation selects.
TWO_RESPONSE_URLS = [
    {"block_id": f"b{n}", "action_id": f"a{n}", "channel_id": f"C0{n}", "response_url": RESPONSE_URL}
    for n in (1, 2)
]


@pytest.mark.parametrize(
    "payload",
    [
        view_submission_payload(
            REJECT_MODAL,
            {REASON_BLOCK: {"value": "not now"}},
            user_id=APPROVER,
            private_metadata=button_value("R000000"),
        ),
        {"type": "view_closed", "view": {}},
        {k: v for k, v in _button_payload().items() if k != "response_url"},
    ],
    ids=["view_submission", "unhandled kind", "block_actions"],
)
async def test_a_payload_with_several_response_urls_gets_a_clean_answer(
    world: World, quiet: pytest.LogCaptureFixture, payload: dict[str, Any]
) -> None:
    content = _with_response_url(payload | {"response_urls": TWO_RESPONSE_URLS}, world.fake.response_url("x"))
    raw = urlencode({"payload": json.dumps(content)}).encode()
    since = len(world.fake.calls)
    reply = await post(world, raw, signed_headers(raw, FORM))
    assert reply.status_code in (200, 400), reply.text
    assert bugs_shown(world, since, reply) == []
    assert tracebacks(quiet) == []


# --- replays and retries: acknowledged, not acted on --------------------------------------------


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(target=st.sampled_from(["prod", "test", "dev"]))
async def test_the_same_signed_request_sent_again_is_acknowledged_without_acting(
    world: World, target: str
) -> None:
    body = urlencode(
        slash_command_payload(f"sync dev {target}", response_url=world.fake.response_url())
    ).encode()
    headers = signed_headers(body, FORM)
    first = await post(world, body, headers)
    assert first.status_code == 200
    requests = await world.services.store.list_requests()
    audit = await world.services.store.list_audit(limit=1000)
    calls = len(world.fake.calls)

    again = await post(world, body, headers)
    assert (again.status_code, again.text) == (200, "")
    assert await world.services.store.list_requests() == requests
    assert len(await world.services.store.list_audit(limit=1000)) == len(audit)
    assert len(world.fake.calls) == calls


async def test_a_replayed_click_does_not_decide_twice(world: World) -> None:
    body = urlencode({"payload": json.dumps(_button_payload())}).encode()
    headers = signed_headers(body, FORM)
    assert (await post(world, body, headers)).status_code == 200
    told = len(world.ephemerals(APPROVER))
    assert told == 1  # the button names a request that does not exist: said once, privately
    assert (await post(world, body, headers)).status_code == 200
    assert len(world.ephemerals(APPROVER)) == told


async def test_a_slack_retry_is_acknowledged_without_acting(world: World) -> None:
    body = json.dumps(
        event_payload({"type": "app_home_opened", "user": "U0REQUESTER", "tab": "home"})
    ).encode()
    reply = await post(world, body, signed_headers(body, JSON) | {"X-Slack-Retry-Num": "1"})
    assert (reply.status_code, reply.text) == (200, "")
    assert world.fake.of("views.publish") == []


async def test_the_first_delivery_of_an_event_is_acted_on(world: World) -> None:
    body = json.dumps(
        event_payload({"type": "app_home_opened", "user": "U0REQUESTER", "tab": "home"})
    ).encode()
    assert (await post(world, body, signed_headers(body, JSON))).status_code == 200
    await world.fake.wait_for("views.publish")


async def test_kinds_without_a_listener_and_slacks_url_check_get_200(world: World) -> None:
    closed = urlencode({"payload": json.dumps({"type": "view_closed", "view": {}})}).encode()
    assert (await post(world, closed, signed_headers(closed, FORM))).status_code == 200
    challenge = json.dumps({"type": "url_verification", "challenge": "c-42", "token": "t"}).encode()
    reply = await post(world, challenge, signed_headers(challenge, JSON))
    assert reply.status_code == 200
    assert "c-42" in reply.text
    assert world.fake.calls == []


async def test_replicas_share_what_was_seen_and_expired_entries_are_cleaned_up(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    one, two = Store(url), Store(url)
    try:
        await one.upgrade()
        soon = datetime.now(UTC) + timedelta(minutes=5)
        assert await ReplayGuard(one).first_sighting("v0=ab", 1_800_000_000, soon)
        assert not await ReplayGuard(two).first_sighting("v0=ab", 1_800_000_000, soon)
        assert await ReplayGuard(two).first_sighting("v0=ab", 1_800_000_001, soon)  # another request

        past = datetime.now(UTC) - timedelta(seconds=1)
        await ReplayGuard(one).first_sighting("v0=old", 1_700_000_000, past)
        await ReplayGuard(two).first_sighting("v0=next", 1_800_000_002, soon)  # a new guard cleans up
        async with one.engine.connect() as connection:
            rows = (await connection.exec_driver_sql("SELECT signature FROM seen_request")).scalars().all()
        assert sorted(rows) == ["v0=ab", "v0=ab", "v0=next"]
    finally:
        await one.dispose()
        await two.dispose()


@FUZZ
@given(
    timestamp=st.one_of(
        st.integers(min_value=-400, max_value=400).map(lambda skew: str(int(time.time()) + skew)),
        st.from_regex(r"[!-~\xa0-\xff]{0,14}", fullmatch=True),  # anything a header can carry
    )
)
async def test_only_a_plain_integer_timestamp_inside_the_window_verifies(
    world: World, timestamp: str
) -> None:
    body = urlencode(slash_command_payload("help", response_url=world.fake.response_url())).encode()
    headers = {k: v.encode("latin-1") for k, v in signed_headers(body, FORM, timestamp=timestamp).items()}
    reply = await world.http.post("/slack/events", content=body, headers=headers)
    plain = timestamp.isascii() and timestamp.isdigit() and abs(time.time() - int(timestamp)) <= 300
    assert reply.status_code == (200 if plain else 401)


async def test_when_the_database_is_down_a_command_is_told_so_and_nothing_runs(world: World) -> None:
    down = Store("postgresql://alm:pw@127.0.0.1:1/alm")  # port 1: refused at once
    edge = SlackEvents(world.app, SECRET, ReplayGuard(down))
    try:
        app = Starlette(routes=[Route("/slack/events", edge.handle, methods=["POST"])])
        async with serving(app) as url, httpx2.AsyncClient(base_url=url) as http:
            command = urlencode(
                slash_command_payload("sync dev prod", response_url=world.fake.response_url())
            )
            reply = await http.post(
                "/slack/events", content=command, headers=signed_headers(command.encode(), FORM)
            )
            click = urlencode({"payload": json.dumps(_button_payload())})
            refused = await http.post(
                "/slack/events", content=click, headers=signed_headers(click.encode(), FORM)
            )
    finally:
        await down.dispose()
    assert reply.status_code == 200
    assert reply.json()["response_type"] == "ephemeral"
    assert "cannot reach its database" in reply.json()["text"]
    assert refused.status_code == 503
    assert world.fake.calls == []


async def test_a_body_beyond_a_mebibyte_is_refused_before_it_is_read_whole(world: World) -> None:
    body = b"payload=" + b"x" * (1024 * 1024)
    reply = await post(world, body, signed_headers(body, FORM))
    assert reply.status_code == 413
    assert world.fake.calls == []
