"""manifest.yml is a valid Slack app manifest and asks for exactly what the bot uses.

The schema is Slack's own (``slackapi/manifest-schema``, ``schemas/manifest.schema.1.0.0.json``, commit
c50cfa8, MIT — licence in ``slack-manifest.schema.LICENSE`` beside the vendored copy). The shared
reference copy (``../shared/reference`` next to the repo) is preferred when present; the vendored copy
keeps the test running when the repo is checked out alone, and a test keeps the two identical.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

HERE = Path(__file__).parent
REPO = Path(__file__).parents[2]
MANIFEST = REPO / "manifest.yml"
SHARED_SCHEMA = REPO.parent / "shared/reference/slack-manifest.schema.json"
VENDORED_SCHEMA = HERE / "slack-manifest.schema.json"
VENDORED_LICENSE = HERE / "slack-manifest.schema.LICENSE"

BOT_SCOPES = {
    "commands",
    "chat:write",
    "users:read",
    "usergroups:read",
    "im:write",
    "files:write",
    # alm_bot.slack.once: look an interrupted notice up before posting it again
    "channels:history",
    "groups:history",
    "im:history",
}
HTTP_ENDPOINT = re.compile(r"^https://[^/]+/slack/events$")


def schema() -> dict[str, Any]:
    path = SHARED_SCHEMA if SHARED_SCHEMA.exists() else VENDORED_SCHEMA
    loaded: dict[str, Any] = json.loads(path.read_text())
    return loaded


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(schema())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    return ["/".join(map(str, e.path)) + ": " + e.message for e in errors]


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    assert schema_errors(manifest) == []


def test_the_schema_rejects_a_broken_manifest(manifest: dict[str, Any]) -> None:
    # Guards the test above against a schema that accepts anything.
    broken = {**manifest, "settings": {**manifest["settings"], "interactivity": {"enabled": True}}}

    assert any(e.startswith("settings/interactivity") for e in schema_errors(broken))


def test_the_vendored_schema_matches_the_shared_copy_and_keeps_its_licence() -> None:
    if SHARED_SCHEMA.exists():
        assert VENDORED_SCHEMA.read_bytes() == SHARED_SCHEMA.read_bytes()
    assert "Copyright (c) Slack Technologies" in VENDORED_LICENSE.read_text()
    assert VENDORED_LICENSE.read_text().startswith("MIT License")


def test_manifest_targets_schema_major_version_1(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1


def test_bot_scopes_are_exactly_the_ones_the_bot_uses(manifest: dict[str, Any]) -> None:
    scopes = manifest["oauth_config"]["scopes"]["bot"]

    assert len(scopes) == len(set(scopes))
    assert set(scopes) == BOT_SCOPES
    assert "user" not in manifest["oauth_config"]["scopes"]


def test_the_only_slash_command_is_alm_with_raw_text(manifest: dict[str, Any]) -> None:
    (command,) = manifest["features"]["slash_commands"]

    assert command["command"] == "/alm"
    assert command["should_escape"] is False
    assert command["usage_hint"].startswith("help | models | sync <source> <target>")


def test_the_bot_user_is_alm_bot_with_interactivity_and_the_home_tab(manifest: dict[str, Any]) -> None:
    features, settings = manifest["features"], manifest["settings"]

    assert features["bot_user"]["display_name"] == "alm-bot"
    assert settings["interactivity"]["is_enabled"] is True
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["event_subscriptions"]["bot_events"] == ["app_home_opened"]


def test_request_urls_are_set_exactly_when_socket_mode_is_off(manifest: dict[str, Any]) -> None:
    # Slack's schema cannot express this: Socket Mode needs no URLs, HTTP mode needs all three.
    settings = manifest["settings"]
    urls = [
        manifest["features"]["slash_commands"][0].get("url"),
        settings["interactivity"].get("request_url"),
        settings["event_subscriptions"].get("request_url"),
    ]

    if settings["socket_mode_enabled"]:
        assert urls == [None, None, None]
    else:
        assert all(url is not None and HTTP_ENDPOINT.match(url) for url in urls), urls


def test_background_colour_is_a_hex_colour(manifest: dict[str, Any]) -> None:
    # The schema spells this rule with a non-standard "regex" keyword, so validators skip it.
    assert re.fullmatch(
        r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", manifest["display_information"]["background_color"]
    )


def test_the_http_mode_recipe_in_the_header_comment_gives_a_valid_manifest(manifest: dict[str, Any]) -> None:
    endpoint = "https://alm.example.com/slack/events"
    header = MANIFEST.read_text().split("\n_metadata:")[0]
    (command,) = manifest["features"]["slash_commands"]
    settings = manifest["settings"]
    http = {
        **manifest,
        "features": {**manifest["features"], "slash_commands": [{**command, "url": endpoint}]},
        "settings": {
            **settings,
            "socket_mode_enabled": False,
            "interactivity": {**settings["interactivity"], "request_url": endpoint},
            "event_subscriptions": {**settings["event_subscriptions"], "request_url": endpoint},
        },
    }

    assert "socket_mode_enabled: false" in header
    for path in (
        "features.slash_commands[0].url",
        "interactivity.request_url",
        "event_subscriptions.request_url",
    ):
        assert path in header
    assert schema_errors(http) == []
