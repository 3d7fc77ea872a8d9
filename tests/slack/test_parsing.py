"""What people type after /alm: split like a shell, checked against the subcommand table."""

from __future__ import annotations

import pytest

from alm_bot.errors import AlmBotError
from alm_bot.slack.parsing import SUBCOMMANDS, Invocation, UsageError, parse


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP"])
def test_empty_text_or_help_asks_for_help(text: str) -> None:
    assert parse(text) == Invocation("help")


def test_an_unknown_subcommand_asks_for_help_and_names_the_word() -> None:
    assert parse("deploy everything") == Invocation("help", unknown="deploy")


def test_quoted_arguments_keep_their_spaces() -> None:
    parsed = parse('revision dev "Q3 release" "New cost centres"')
    assert parsed == Invocation("revision", ("dev", "Q3 release", "New cost centres"))


def test_typographic_quotes_count_as_quotes() -> None:
    assert parse("revisions “FP&A PROD”").args == ("FP&A PROD",)


def test_slack_html_escapes_are_undone() -> None:
    assert parse('revisions "FP&amp;A PROD"').args == ("FP&A PROD",)


def test_an_unbalanced_quote_is_a_usage_error_that_says_so() -> None:
    with pytest.raises(UsageError, match="unbalanced quote"):
        parse('revision dev "Q3 release')


def test_usage_errors_belong_to_the_error_tree() -> None:
    assert issubclass(UsageError, AlmBotError)


def test_a_missing_argument_is_named_with_the_usage() -> None:
    with pytest.raises(UsageError) as caught:
        parse("syncable dev")
    assert "needs <target>" in str(caught.value)
    assert "Usage: /alm syncable <source> <target>" in str(caught.value)


def test_too_many_arguments_suggest_quoting() -> None:
    with pytest.raises(UsageError, match="at most 1 argument"):
        parse("revisions FP&A PROD")


def test_compare_takes_the_full_flag_anywhere() -> None:
    parsed = parse("compare --full dev prod R4")
    assert parsed.args == ("dev", "prod", "R4")
    assert parsed.flags == {"--full"}


def test_an_autocorrected_dash_still_reads_as_a_flag() -> None:
    assert parse("compare dev prod —full").flags == {"--full"}


def test_an_unknown_flag_is_refused_with_the_usage() -> None:
    with pytest.raises(UsageError, match="has no option --force"):
        parse("sync dev prod --force")


def test_sync_without_arguments_asks_for_the_form() -> None:
    assert parse("sync") == Invocation("sync")


def test_sync_with_only_a_source_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="needs <target>"):
        parse("sync dev")


@pytest.mark.parametrize("which", ["mine", "pending", "MINE"])
def test_requests_takes_mine_or_pending(which: str) -> None:
    assert parse(f"requests {which}").args == (which,)


def test_requests_refuses_other_words() -> None:
    with pytest.raises(UsageError, match="takes mine or pending"):
        parse("requests everything")


def test_subcommand_names_are_case_insensitive() -> None:
    assert parse("Models fpa").name == "models"


def test_every_subcommand_has_a_usage_line() -> None:
    assert set(SUBCOMMANDS) == {
        "release",
        "policy",
        "help",
        "models",
        "revisions",
        "latest",
        "syncable",
        "applied",
        "tasks",
        "task",
        "revision",
        "sync",
        "compare",
        "online",
        "offline",
        "requests",
        "cancel",
        "windows",
        "override",
        "audit",
        "stats",
    }
    assert all(s.usage.startswith(f"/alm {s.name}") for s in SUBCOMMANDS.values())


def test_release_takes_any_number_of_targets_and_a_revision_option() -> None:
    parsed = parse("release dev prod-emea prod-apac --revision R7")
    assert parsed.args == ("dev", "prod-emea", "prod-apac")
    assert parsed.option("--revision") == "R7"
    assert parse("release fpa").args == ("fpa",)


def test_release_refuses_a_revision_option_without_its_value() -> None:
    with pytest.raises(UsageError, match="--revision needs a value"):
        parse("release dev prod --revision")


def test_override_takes_the_request_id_and_the_rest_as_its_reason() -> None:
    invocation = parse("override R7K3QX2 payroll fix cannot wait")
    assert (invocation.name, invocation.args[0], " ".join(invocation.args[1:])) == (
        "override",
        "R7K3QX2",
        "payroll fix cannot wait",
    )
    with pytest.raises(UsageError, match="needs <reason…>"):
        parse("override R7K3QX2")
    assert parse("windows").name == "windows"
    assert parse("windows prod").args == ("prod",)
