"""The MCP layer's small parts on their own: error translation, links, loopback, the acting identity."""

from __future__ import annotations

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from alm_bot.actor import Actor
from alm_bot.errors import AnaplanUnavailable, InvalidArgument, ModelNotResolved, RequestNotFound
from alm_bot.mcp.auth import is_loopback
from alm_bot.mcp.boundary import message_for, tool_errors
from alm_bot.mcp.deps import LOCAL_ACTOR, ToolDeps, current_actor
from alm_bot.mcp.render import state_explained
from alm_bot.request_states import REQUEST_STATES


async def no_ops() -> object:
    raise AssertionError("not used")


def test_a_core_error_becomes_a_tool_error_with_its_message() -> None:
    with pytest.raises(ToolError) as raised, tool_errors():
        raise AnaplanUnavailable("Anaplan did not answer in 30 s; try again in a minute.")
    assert str(raised.value) == "Anaplan did not answer in 30 s; try again in a minute."


def test_other_exceptions_are_left_to_the_sdk() -> None:
    with pytest.raises(KeyError), tool_errors():
        raise KeyError("a bug, not a message for the user")


def test_an_invalid_argument_is_named_as_the_tool_calls_it() -> None:
    error = InvalidArgument("revision", "'R9' is not a revision of FP&A DEV.")
    assert message_for(error, {"revision": "source_revision"}) == (
        "Invalid argument source_revision: 'R9' is not a revision of FP&A DEV."
    )


def test_an_invalid_argument_whose_message_starts_with_its_name_is_not_prefixed() -> None:
    error = InvalidArgument("task_id", "task_id 'x' is not an Anaplan id.")
    assert message_for(error, {}) == "task_id 'x' is not an Anaplan id."


def test_an_unresolved_model_points_to_the_model_list() -> None:
    message = message_for(ModelNotResolved("prd is not a model — did you mean prod?"), {})
    hint = "Call alm_list_models to see the models, their aliases and ids."
    assert message == f"prd is not a model — did you mean prod? {hint}"


def test_an_unknown_request_points_to_the_request_list() -> None:
    assert message_for(RequestNotFound("R1"), {}).endswith("Call alm_list_requests to see recent requests.")


def test_every_request_state_is_explained() -> None:
    assert all(state_explained(state) != state for state in REQUEST_STATES)
    assert "Slack" in state_explained("pending")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.9.10", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),  # noqa: S104 — the point of the test
        ("::", False),
        ("10.0.0.5", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_loopback_is_recognised(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_without_a_request_actor_the_default_actor_acts() -> None:
    deps = ToolDeps(no_ops, Actor("U1", "Ada", "mcp"))  # type: ignore[arg-type]
    assert deps.actor() == Actor("U1", "Ada", "mcp")
    assert ToolDeps(no_ops).actor() == LOCAL_ACTOR  # type: ignore[arg-type]


def test_the_request_actor_wins_and_always_acts_via_mcp() -> None:
    deps = ToolDeps(no_ops, LOCAL_ACTOR)  # type: ignore[arg-type]
    reset = current_actor.set(Actor("U2", "Bob", "slack"))
    try:
        assert deps.actor() == Actor("U2", "Bob", "mcp")
    finally:
        current_actor.reset(reset)
