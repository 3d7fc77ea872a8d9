"""``alm-bot anaplan login`` is a registered command and says what it needs when OAuth is not configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.cli import build_parser, main


def test_the_command_is_registered() -> None:
    args = build_parser().parse_args(["anaplan", "login"])

    assert (args.command, args.action) == ("anaplan", "login")


def test_without_an_oauth_client_it_names_the_two_variables_it_needs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("ANAPLAN_OAUTH_CLIENT_ID", "ALM_BOT_SECRET_KEY", "ANAPLAN_USERNAME", "ANAPLAN_CERTIFICATE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALM_BOT_DATABASE_URL", f"sqlite:///{tmp_path / 'alm.db'}")

    code = main(["anaplan", "login"])

    message = capsys.readouterr().err
    assert code == 1
    assert "ANAPLAN_OAUTH_CLIENT_ID" in message
    assert "ALM_BOT_SECRET_KEY" in message
