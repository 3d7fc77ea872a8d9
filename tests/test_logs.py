"""Process logging (`alm_bot.logs`): text or JSON lines on stderr, request ids, secrets masked everywhere.

`configure_logging` replaces the root logger's handlers; the `configured` fixture puts the test
runner's logging back afterwards. What ``alm-bot serve`` writes with real secrets configured is
checked end to end in ``tests/test_serve.py``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest

from alm_bot.logs import configure_logging, new_request_id, request_id_var

SECRET = "xoxb-secret-token-0f9e8d"
Configure = Callable[..., None]


@pytest.fixture
def configured() -> Iterator[Configure]:
    """`configure_logging`, undone after the test (root handlers and every logger's level)."""
    root = logging.getLogger()
    handlers, root_level = list(root.handlers), root.level
    loggers = logging.root.manager.loggerDict.items()
    levels = {name: logger.level for name, logger in loggers if isinstance(logger, logging.Logger)}
    yield configure_logging
    root.handlers[:] = handlers
    root.setLevel(root_level)
    for name, logger in list(logging.root.manager.loggerDict.items()):
        if isinstance(logger, logging.Logger):
            logger.setLevel(levels.get(name, logging.NOTSET))


def fail_with(text: str) -> BaseException:
    try:
        raise RuntimeError(text)
    except RuntimeError as exc:
        return exc


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_in_a_message_or_its_arguments_is_masked(
    fmt: str, configured: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configured(fmt, secrets=[SECRET])
    log = logging.getLogger("alm_bot.test")
    log.warning("token %s rejected", SECRET)
    log.warning(f"inline {SECRET}")

    err = capsys.readouterr().err
    assert SECRET not in err
    assert err.count("***") == 2


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_secret_inside_a_logged_exception_is_masked_too(
    fmt: str, configured: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configured(fmt, secrets=[SECRET])
    logging.getLogger("alm_bot.test").error("listener failed", exc_info=fail_with(f"bad auth {SECRET}"))

    err = capsys.readouterr().err
    assert "RuntimeError: bad auth ***" in (json.loads(err)["exception"] if fmt == "json" else err)
    assert SECRET not in err


def test_values_shorter_than_six_characters_are_not_masked(
    configured: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configured("text", secrets=["abc"])
    logging.getLogger("alm_bot.test").warning("abcdef")

    assert "abcdef" in capsys.readouterr().err


def test_json_lines_parse_and_carry_the_request_id_of_their_interaction(
    configured: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configured("json")
    log = logging.getLogger("alm_bot.test")
    log.info("outside any interaction")
    token = request_id_var.set("-")
    try:
        rid = new_request_id("slack-")
        log.info("during one — with ünïcode")
    finally:
        request_id_var.reset(token)

    first, second = (json.loads(line) for line in capsys.readouterr().err.splitlines())
    assert (first["request_id"], first["level"], first["logger"]) == ("-", "info", "alm_bot.test")
    assert (second["request_id"], second["message"]) == (rid, "during one — with ünïcode")
    assert rid.startswith("slack-")


def test_text_lines_show_the_request_id_in_brackets(
    configured: Configure, capsys: pytest.CaptureFixture[str]
) -> None:
    configured("text")
    token = request_id_var.set("mcp-0123456789")
    try:
        logging.getLogger("alm_bot.test").warning("hello")
    finally:
        request_id_var.reset(token)

    assert " WARNING alm_bot.test [mcp-0123456789] hello" in capsys.readouterr().err
