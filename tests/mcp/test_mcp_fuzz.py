"""Arbitrary arguments never crash a tool: each call gives a result or a tool error that says why.

A bare "Error executing tool <name>" (no reason) would mean an unexpected exception in our code,
and a protocol error would mean the client got nothing usable: both fail these tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from tests.mcp.calls import error_text

pytestmark = pytest.mark.anyio

FUZZ = settings(
    max_examples=40,
    deadline=None,
    # One client and store serve all examples of a test: that is the point (no state to reset).
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
model_references = st.one_of(
    st.sampled_from(["dev", "prod", "test", "FP&A PROD", "", " ", "0" * 32, "prod;DROP TABLE"]),
    st.text(max_size=250),
)
anything = st.one_of(model_references, json_values)


def assert_clear(tool: str, result: CallToolResult) -> None:
    if not result.is_error:
        assert result.structured_content is not None
        return
    message = error_text(result.content)
    assert message.startswith(f"Error executing tool {tool}: "), message
    assert len(message) > len(f"Error executing tool {tool}: ") + 5, message
    assert "Traceback" not in message


@FUZZ
@given(model=anything, sort_by=anything, descending=anything)
async def test_get_revisions_answers_any_arguments_clearly(
    client: Client, model: Any, sort_by: Any, descending: Any
) -> None:
    arguments = {"model": model, "sort_by": sort_by, "descending": descending}
    assert_clear("alm_get_revisions", await client.call_tool("alm_get_revisions", arguments))


@FUZZ
@given(
    source=model_references, target=model_references, revision=st.none() | st.text(max_size=80), wait=anything
)
async def test_sync_answers_any_arguments_clearly(
    client: Client, source: str, target: str, revision: str | None, wait: Any
) -> None:
    arguments = {
        "source_model": source,
        "target_model": target,
        "source_revision": revision,
        "max_wait_seconds": wait,
    }
    assert_clear("alm_sync_models", await client.call_tool("alm_sync_models", arguments))


@FUZZ
@given(
    model=model_references,
    task_id=st.one_of(st.text(max_size=70), st.from_regex(r"[0-9A-F]{32}", fullmatch=True)),
)
async def test_get_sync_task_answers_any_arguments_clearly(client: Client, model: str, task_id: str) -> None:
    arguments = {"model": model, "task_id": task_id}
    assert_clear("alm_get_sync_task", await client.call_tool("alm_get_sync_task", arguments))


@FUZZ
@given(request_id=anything)
async def test_request_tools_answer_any_request_id_clearly(client: Client, request_id: Any) -> None:
    for tool in ("alm_get_request", "alm_cancel_request"):
        assert_clear(tool, await client.call_tool(tool, {"request_id": request_id}))


@FUZZ
@given(states=anything, mine=anything, limit=anything)
async def test_list_requests_answers_any_arguments_clearly(
    client: Client, states: Any, mine: Any, limit: Any
) -> None:
    arguments = {"states": states, "mine": mine, "limit": limit}
    assert_clear("alm_list_requests", await client.call_tool("alm_list_requests", arguments))


@FUZZ
@given(arguments=st.dictionaries(st.text(max_size=20), json_values, max_size=5))
async def test_unexpected_argument_shapes_are_answered_clearly(
    client: Client, arguments: dict[str, Any]
) -> None:
    assert_clear("alm_change_model_status", await client.call_tool("alm_change_model_status", arguments))
