"""The core's errors state facts; each front end words them (a few wording tests per front end)."""

from __future__ import annotations

import pytest

from alm_bot.cli_wording import in_cli_words
from alm_bot.errors import (
    PLAIN,
    Action,
    AlmBotError,
    Approvers,
    ModelNotResolved,
    NextStep,
    NotAllowed,
    Refusal,
    RequestNotFound,
)
from alm_bot.mcp.wording import in_mcp_words
from alm_bot.slack.wording import approvers_mentioned, in_slack_words

OWN = NotAllowed(
    "You asked for request R1, so someone else must approve or reject it (four-eyes rule).",
    reason=Refusal.OWN_REQUEST,
    request_id="R1",
    approvers=Approvers(users=("U1", "U2"), groups=("S1",)),
    next_step=NextStep(Action.CANCEL_REQUEST, "R1"),
)


@pytest.mark.parametrize(
    ("users", "groups", "label"),
    [
        (("U1", "U2"), ("S1",), "<@U1>, <@U2> or members of <!subteam^S1>"),
        (("U1",), (), "<@U1>"),
        (("U1", "U2", "U3"), (), "<@U1>, <@U2> or <@U3>"),
        ((), ("S1", "S2"), "members of <!subteam^S1> or <!subteam^S2>"),
        ((), (), "nobody (no approvers are configured)"),
    ],
)
def test_slack_mentions_the_approvers_people_and_groups(
    users: tuple[str, ...], groups: tuple[str, ...], label: str
) -> None:
    assert approvers_mentioned(Approvers(users, groups)) == label


def test_slack_words_a_refusal_with_mentions_and_a_slash_command() -> None:
    assert in_slack_words(OWN) == (
        "You asked for request R1, so someone else must approve or reject it (four-eyes rule). "
        "Who can approve: <@U1>, <@U2> or members of <!subteam^S1>. To withdraw it: `/alm cancel R1`."
    )


def test_slack_escapes_the_core_sentence_but_not_its_own_markup() -> None:
    error = ModelNotResolved("FP&A <PROD> is not an alias, model id or model name.", reference="FP&A <PROD>")
    assert in_slack_words(error) == (
        "FP&amp;A &lt;PROD&gt; is not an alias, model id or model name. Try `/alm models`."
    )


def test_slack_quotes_a_model_name_with_spaces_in_the_suggested_command() -> None:
    error = AlmBotError("x.", next_step=NextStep(Action.LIST_REVISIONS, "FP&A DEV"))
    assert in_slack_words(error) == 'x. Try `/alm revisions "FP&amp;A DEV"`.'


def test_mcp_names_tools_and_plain_ids() -> None:
    assert in_mcp_words(OWN) == (
        "You asked for request R1, so someone else must approve or reject it (four-eyes rule). "
        "Who can approve: U1, U2 or members of group S1. "
        "To withdraw it, call alm_cancel_request(request_id='R1')."
    )
    assert in_mcp_words(RequestNotFound("R9")) == (
        "There is no request R9. Call alm_list_requests to see recent requests."
    )


def test_the_cli_names_cli_commands_and_plain_ids() -> None:
    assert in_cli_words(OWN) == (
        "You asked for request R1, so someone else must approve or reject it (four-eyes rule). "
        "Who can approve: U1, U2 or members of group S1. To withdraw it, run `alm-bot requests cancel R1`."
    )
    assert in_cli_words(RequestNotFound("R9")) == (
        "There is no request R9. Run `alm-bot requests list` to see recent requests."
    )


@pytest.mark.parametrize("action", list(Action))
def test_every_next_step_has_words_in_every_front_end(action: Action) -> None:
    error = AlmBotError("Refused.", next_step=NextStep(action, "dev"))
    for words in (str(error), in_slack_words(error), in_mcp_words(error), in_cli_words(error)):
        assert words.startswith("Refused. ")
        assert len(words) > len("Refused. ")
    assert str(error) == error.worded(PLAIN)


def test_plain_words_speak_no_front_end() -> None:
    for words in (str(OWN), str(RequestNotFound("R9")), str(ModelNotResolved("x."))):
        assert not any(marker in words for marker in ("<@", "/alm", "alm_"))
