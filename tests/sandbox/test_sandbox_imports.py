"""The sandbox package imports its parts on first use, so `alm-bot mcp --sandbox` starts quickly."""

from __future__ import annotations

import subprocess
import sys

import pytest

from alm_bot import sandbox


def test_reading_the_sandbox_defaults_does_not_import_the_emulator_app() -> None:
    probe = (
        "import sys, alm_bot.sandbox.defaults as d; d.sandbox_defaults(); "
        "print('alm_bot.sandbox.app' in sys.modules, 'cryptography' in sys.modules)"
    )
    printed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout

    assert printed.split() == ["False", "False"]


def test_the_package_still_offers_its_names() -> None:
    assert sandbox.Sandbox(task_duration=0).task_duration == 0
    assert sandbox.create_app(sandbox.Sandbox()).state.sandbox is not None
    assert sandbox.seed.ADMIN_USER == "admin@sandbox.example"
    assert sandbox.RequestLogEntry("GET", "/", 200, 0.0).status == 200


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = sandbox.nothing  # type: ignore[attr-defined]
