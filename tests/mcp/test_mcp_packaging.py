"""Publish-ready packaging: ``server.json`` for the MCP registry agrees with the package and Settings.

The registry's own schema (static.modelcontextprotocol.io, 2025-12-11) is not vendored here; the
rules it and the official registry enforce that matter for alm-bot are checked by hand. That
``uvx --from dist/alm_bot-….whl alm-bot mcp --sandbox`` serves stdio was tried by hand (it needs
PyPI to install the dependencies), see README "Packaging and the MCP registry".
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

from alm_bot.config.settings import ENV_FIELDS, Settings

ROOT = Path(__file__).resolve().parents[2]


def server_json() -> dict[str, Any]:
    document: dict[str, Any] = json.loads((ROOT / "server.json").read_text())
    return document


def project() -> dict[str, Any]:
    table: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return table


def test_server_json_names_the_pypi_package_and_its_version() -> None:
    server, package = server_json(), server_json()["packages"][0]
    assert server["$schema"].startswith("https://static.modelcontextprotocol.io/schemas/")
    assert re.fullmatch(r"[a-zA-Z0-9.-]+/[a-zA-Z0-9._-]+", server["name"])
    assert 1 <= len(server["description"]) <= 100
    assert server["version"] == package["version"] == project()["version"]
    assert (package["registryType"], package["registryBaseUrl"]) == ("pypi", "https://pypi.org")
    assert package["identifier"] == project()["name"]
    assert package["transport"] == {"type": "stdio"}


def test_the_registry_command_is_the_stdio_server() -> None:
    package = server_json()["packages"][0]
    assert project()["scripts"] == {"alm-bot": "alm_bot.cli:main"}
    assert (package["runtimeHint"], [a["value"] for a in package["packageArguments"]]) == ("uvx", ["mcp"])


def test_every_variable_in_server_json_is_a_setting_and_secrets_are_marked() -> None:
    for variable in server_json()["packages"][0]["environmentVariables"]:
        field = ENV_FIELDS.get(variable["name"])
        assert field is not None, variable["name"]
        secret = "SecretStr" in str(Settings.model_fields[field].annotation)
        assert variable.get("isSecret", False) == secret, variable["name"]
        assert variable["description"]


def test_the_readme_carries_the_pypi_ownership_marker() -> None:
    readme = (ROOT / "README.md").read_text()
    assert f"mcp-name: {server_json()['name']}" in readme
