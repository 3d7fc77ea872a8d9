"""Whatever people type, through ``serve``'s one app over HTTP, they get a clear answer — never a 500, a
traceback, an apology for a bug ("something went wrong"), or a bare "Error executing tool".

tests/slack and tests/mcp fuzz the Bolt app alone and six tools in memory; this adds what they leave
out: ``/alm`` text up to Slack's length limit with odd Unicode, the free text of the two forms
(a rejection reason, a revision name) from any clicker, and every MCP tool over streamable HTTP —
all through `alm_bot.serve.build_app` (middleware, routes and lifespan as ``alm-bot serve`` runs
them), served by uvicorn on 127.0.0.1, with the sandbox and a fake Slack behind it.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp.types import CallToolResult, TextContent

from alm_bot.actor import Actor
from alm_bot.config import load_settings
from alm_bot.mcp.deps import LOCAL_ACTOR, ToolDeps, ops_provider
from alm_bot.mcp.tools import all_tools
from alm_bot.sandbox import Sandbox, seed
from alm_bot.serve import build_app
from alm_bot.services import Services, open_services, sandbox_defaults
from alm_bot.slack.buttons import button_value
from alm_bot.slack.modals import REASON_BLOCK, REJECT_MODAL, SYNC_MODAL
from alm_bot.slack.parsing import SUBCOMMANDS
from tests.live import WAIT, drain_bolt_listeners, mcp_client, serving
from tools.fake_slack import Call, FakeSlack, sign, slash_command_body, view_submission_body

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SECRET = "fuzz-signing-secret"
BOT_TOKEN = "xoxb-fuzz"
BUG_SIGNS = ("something went wrong", "Traceback", "Internal Server Error")
FUZZ = settings(
    max_examples=40,
    deadline=None,
    # One app serves every example of a test: that is the point (state carries over, like in life).
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@dataclass
class Edge:
    services: Services
    fake: FakeSlack
    http: httpx2.AsyncClient
    url: str
    pending_id: str

    async def send(self, body: str) -> httpx2.Response:
        reply = await self.http.post("/slack/events", content=body, headers=sign(body, SECRET))
        await drain_bolt_listeners()  # what the listener does after its acknowledgement is part of it
        return reply

    def said_since(self, mark: int) -> list[Call]:
        return self.fake.calls[mark:]


@pytest.fixture
async def edge(tmp_path: Path) -> AsyncIterator[Edge]:
    async with FakeSlack(bot_token=BOT_TOKEN) as fake:
        env = {
            "ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": fake.api_url,
        }
        config = load_settings(env=env, defaults=sandbox_defaults())
        sandbox = Sandbox(task_duration=0, rate_limit_per_second=None)
        async with open_services(config, sandbox=sandbox) as services, serving(build_app(services)) as url:
            pending = await services.ops.requests.request_sync(
                "dev", "prod", actor=Actor("U0REQUESTER", "Ada", "slack")
            )
            async with httpx2.AsyncClient(base_url=url, timeout=WAIT) as http:
                yield Edge(services, fake, http, url, pending.request.id)
            await drain_bolt_listeners()


def assert_no_bug_shown(reply: httpx2.Response, calls: list[Call]) -> None:
    assert reply.status_code == 200, reply.text
    shown = [reply.text, *(json.dumps(c.params, ensure_ascii=False) for c in calls)]
    for text in shown:
        assert not any(sign in text for sign in BUG_SIGNS), text


# --- /alm text -----------------------------------------------------------------------------------

odd_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    min_size=200,
    max_size=3000,
)
zero_width_and_rtl = st.lists(
    st.sampled_from(["\u200b", "\u200f", "\u202e", "\ufeff", "🔒", "é", "ß"]), max_size=8
)
alm_text = st.one_of(
    odd_text,
    st.builds(lambda name, rest: f"{name} {rest}", st.sampled_from(sorted(SUBCOMMANDS)), odd_text),
    st.builds(
        lambda name, marks, model: f"{name} {''.join(marks)}{model}{''.join(marks)}",
        st.sampled_from(sorted(SUBCOMMANDS)),
        zero_width_and_rtl,
        st.sampled_from(["dev", "prod", '"FP&A PROD"', seed.PROD_MODEL_ID, "&lt;prod&gt;"]),
    ),
)


@FUZZ
@given(text=alm_text)
async def test_any_alm_text_through_serves_app_gets_a_private_answer(edge: Edge, text: str) -> None:
    mark = len(edge.fake.calls)
    body = slash_command_body(text, response_url=edge.fake.response_url("fuzz"))

    reply = await edge.send(body)

    assert_no_bug_shown(reply, edge.said_since(mark))
    answered = bool(reply.content) or any(
        c.method in ("response_url", "views.open") for c in edge.said_since(mark)
    )
    assert answered, f"no answer to /alm {text!r}"


# --- the forms' free text ------------------------------------------------------------------------

clickers = st.sampled_from(["U0APPROVER1", "U0APPROVER2", "U0REQUESTER", "U0OUTSIDER"])
typed = st.text(max_size=3000) | st.sampled_from(["", " ", "\n", "R4", "<@U0APPROVER1>", "&amp;", "*bold*"])


@FUZZ
@given(reason=typed, user=clickers)
async def test_any_rejection_reason_from_anyone_is_answered_without_a_bug(
    edge: Edge, reason: str, user: str
) -> None:
    mark = len(edge.fake.calls)
    body = view_submission_body(
        REJECT_MODAL,
        {REASON_BLOCK: {"value": reason}},
        user_id=user,
        private_metadata=button_value(edge.pending_id),
    )

    reply = await edge.send(body)

    assert_no_bug_shown(reply, edge.said_since(mark))


def _picked(model: str) -> dict[str, Any]:
    return {
        "type": "static_select",
        "selected_option": {"value": model, "text": {"type": "plain_text", "text": model}},
    }


@FUZZ
@given(
    source=st.sampled_from([seed.DEV_MODEL_ID, seed.TEST_MODEL_ID, seed.UNRELATED_MODEL_ID]),
    target=st.sampled_from([seed.PROD_MODEL_ID, seed.TEST_MODEL_ID, seed.DEV_MODEL_ID]),
    revision=typed,
    user=clickers,
)
async def test_any_revision_typed_in_the_sync_form_is_answered_without_a_bug(
    edge: Edge, source: str, target: str, revision: str, user: str
) -> None:
    mark = len(edge.fake.calls)
    metadata = json.dumps({"v": 1, "response_url": edge.fake.response_url("form")})
    values = {"source": {"model": _picked(source)}, "target": {"model": _picked(target)}}
    values["revision"] = {"value": {"type": "plain_text_input", "value": revision}}
    body = view_submission_body(SYNC_MODAL, values, user_id=user, private_metadata=metadata)

    reply = await edge.send(body)

    assert_no_bug_shown(reply, edge.said_since(mark))
    assert any(c.method == "response_url" for c in edge.said_since(mark)), "the form got no answer"


# --- every MCP tool over streamable HTTP ----------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)
plausible = st.sampled_from(["dev", "prod", "test", "FP&A PROD", seed.R4_ID, "R4", "R0000000", "0" * 32, ""])


def _tool_arguments() -> dict[str, list[str]]:
    """Each tool's argument names (its function's parameters are its input schema's properties)."""
    deps = ToolDeps(ops_provider(lambda: None), LOCAL_ACTOR)  # never called: only the signatures are read
    return {
        spec.name: [p for p in inspect.signature(spec.fn).parameters if p != "ctx"]
        for spec in all_tools(deps)
    }


TOOL_ARGUMENTS = _tool_arguments()
tool_calls = st.sampled_from(sorted(TOOL_ARGUMENTS)).flatmap(
    lambda name: st.tuples(
        st.just(name),
        st.fixed_dictionaries({}, optional=dict.fromkeys(TOOL_ARGUMENTS[name], plausible | json_values))
        | st.dictionaries(st.text(max_size=12), json_values, max_size=3),
    )
)


@FUZZ
@given(call=tool_calls)
async def test_every_mcp_tool_answers_any_arguments_clearly_over_http(
    edge: Edge, call: tuple[str, dict[str, Any]]
) -> None:
    name, arguments = call
    async with mcp_client(f"{edge.url}/mcp", None) as mcp:
        result = await mcp.call_tool(name, arguments)

    assert_clear(name, result)


def assert_clear(tool: str, result: CallToolResult) -> None:
    if not result.is_error:
        assert result.structured_content is not None
        return
    message = " ".join(block.text for block in result.content if isinstance(block, TextContent))
    prefix = f"Error executing tool {tool}: "
    assert message.startswith(prefix), message
    assert len(message) > len(prefix) + 5, message
    assert not any(sign in message for sign in BUG_SIGNS), message


# --- raw bytes at /slack/events -------------------------------------------------------------------

raw_bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda payload: "payload=" + payload, st.text(max_size=60)),
    json_values.map(json.dumps),
    st.builds(
        lambda key, value: f"{key}={value}", st.sampled_from(["command", "payload", "type"]), st.text()
    ),
)
content_types = st.sampled_from(["application/json", "application/x-www-form-urlencoded", "text/plain", ""])


@FUZZ
@given(body=raw_bodies, content_type=content_types, signed=st.booleans())
async def test_any_bytes_at_slack_events_through_serves_app_get_401_400_or_200_never_a_bug(
    edge: Edge, caplog: pytest.LogCaptureFixture, body: str | bytes, content_type: str, signed: bool
) -> None:
    caplog.clear()
    raw = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
    mark = len(edge.fake.calls)
    headers = {"Content-Type": content_type} if content_type else {}
    if signed:
        stamp = str(int(time.time()))
        digest = hmac.new(SECRET.encode(), f"v0:{stamp}:".encode() + raw, hashlib.sha256).hexdigest()
        headers |= {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}

    reply = await edge.http.post("/slack/events", content=raw, headers=headers)
    await drain_bolt_listeners()

    assert reply.status_code in ((200, 400) if signed else (401,)), reply.text
    shown = [reply.text, *(json.dumps(c.params, ensure_ascii=False) for c in edge.said_since(mark))]
    assert not [text for text in shown if any(sign in text for sign in BUG_SIGNS)]
    assert not [r.getMessage() for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
