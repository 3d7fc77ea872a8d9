"""Configuration: environment, .env, the TOML file over a defaults layer, and one error for every problem."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alm_bot.actor import Actor
from alm_bot.config import (
    DEFAULTS_LABEL,
    ApprovalConfig,
    ModelConfig,
    Settings,
    load_settings,
    parse_duration,
)
from alm_bot.errors import ConfigError

DEV = "0123456789ABCDEF0123456789ABCDEF"
PROD = "FEDCBA9876543210FEDCBA9876543210"

FULL_TOML = f"""
[approval]
channel = "C0APPROVALS"
approvers = ["U0APPROVER1", "U0APPROVER2"]
approver_groups = ["S0ALMADMINS"]
allow_self_approval = true
expires_after = "90m"

[models.fpa-dev]
id = "{DEV}"

[models.fpa-prod]
id = "{PROD}"
protected = true

[watcher]
anaplan_requests_per_second = 2.5
poll_min_seconds = 2
poll_max_seconds = 30
lease_seconds = 120

[anaplan]
timeout_seconds = 45

[mcp]
read_only = true
"""


def write(tmp_path: Path, text: str, name: str = "alm-bot.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(**kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(**kwargs)  # type: ignore[arg-type]
    return caught.value.problems


# --- defaults and the environment ----------------------------------------------------------------


def test_with_nothing_configured_everything_has_a_working_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={})
    assert settings.anaplan_api_url == "https://api.anaplan.com/2/0"
    assert settings.anaplan_auth_url == "https://auth.anaplan.com"
    assert settings.slack_api_url is None  # the Slack front end then uses Slack's own API
    assert settings.database_url.get_secret_value() == f"sqlite+aiosqlite:///{tmp_path / 'alm-bot.db'}"
    assert settings.log_format == "text"
    assert settings.approval == ApprovalConfig()
    assert settings.approval.expires_after == timedelta(hours=24)
    assert not settings.approval.configured
    assert settings.models == {}
    assert (settings.watcher.poll_min_seconds, settings.watcher.poll_max_seconds) == (1, 15)
    assert settings.watcher.lease == timedelta(seconds=60)
    assert settings.anaplan.timeout_seconds == 30
    assert settings.mcp.read_only is False
    assert settings.mcp_tokens == {}
    assert settings.mcp_actor is None
    assert not settings.anaplan_credentials_present


def test_every_variable_is_read_from_the_environment_and_secrets_stay_secret(tmp_path: Path) -> None:
    certificate, key = write(tmp_path, "cert", "cert.pem"), write(tmp_path, "key", "key.pem")
    settings = load_settings(
        env={
            "ANAPLAN_API_URL": "http://127.0.0.1:8765/2/0",
            "ANAPLAN_AUTH_URL": "http://127.0.0.1:8765",
            "ANAPLAN_CERTIFICATE": str(certificate),
            "ANAPLAN_PRIVATE_KEY": str(key),
            "ANAPLAN_PRIVATE_KEY_PASSWORD": "key-pass",
            "SLACK_BOT_TOKEN": "xoxb-bot",
            "SLACK_SIGNING_SECRET": "sign-s3cret",
            "SLACK_APP_TOKEN": "xapp-app",
            "SLACK_API_URL": "http://127.0.0.1:9000/api/",
            "ALM_BOT_DATABASE_URL": "postgresql://alm:db-pass@db/alm",
            "ALM_BOT_LOG_FORMAT": "json",
            "ALM_BOT_MCP_ACTOR": "U0ADA:Ada Lovelace",
        }
    )
    assert settings.anaplan_api_url == "http://127.0.0.1:8765/2/0"
    assert (settings.anaplan_certificate, settings.anaplan_private_key) == (certificate, key)
    assert settings.anaplan_credentials_present
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-bot"
    assert settings.database_url.get_secret_value() == "postgresql+asyncpg://alm:db-pass@db/alm"
    assert settings.log_format == "json"
    assert settings.mcp_actor == Actor("U0ADA", "Ada Lovelace", "mcp")
    shown = repr(settings) + str(settings)
    for secret in ("key-pass", "xoxb-bot", "sign-s3cret", "xapp-app", "db-pass"):
        assert secret not in shown


def test_basic_credentials_count_as_present_and_the_password_is_hidden() -> None:
    settings = load_settings(env={"ANAPLAN_USERNAME": "ada@example.com", "ANAPLAN_PASSWORD": "pw-123"})
    assert settings.anaplan_credentials_present
    assert settings.anaplan_username == "ada@example.com"
    assert "pw-123" not in repr(settings)


def test_an_explicit_env_mapping_replaces_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANAPLAN_USERNAME", "from-process")
    monkeypatch.setenv("ANAPLAN_PASSWORD", "from-process")
    assert load_settings(env={}).anaplan_username is None


def test_the_process_environment_and_the_dot_env_file_are_read_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path, "SLACK_BOT_TOKEN=xoxb-from-file\nALM_BOT_LOG_FORMAT=json\n", ".env")
    monkeypatch.setenv("ALM_BOT_LOG_FORMAT", "text")
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    settings = load_settings()
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-from-file"
    assert settings.log_format == "text"  # the real environment wins over .env


def test_a_dot_env_file_is_read_under_an_explicit_env_only_when_named(tmp_path: Path) -> None:
    dotenv = write(tmp_path, "SLACK_APP_TOKEN=xapp-file\n", ".env")
    assert load_settings(env={}).slack_app_token is None
    settings = load_settings(env={}, env_file=dotenv)
    assert settings.slack_app_token is not None
    assert settings.slack_app_token.get_secret_value() == "xapp-file"


def test_empty_variables_count_as_unset() -> None:
    settings = load_settings(env={"ALM_BOT_LOG_FORMAT": "", "ANAPLAN_USERNAME": ""})
    assert (settings.log_format, settings.anaplan_username) == ("text", None)


# --- MCP identities ------------------------------------------------------------------------------


ADA_TOKEN = "tok-ada-0123456789abcdef0123456789"
CI_TOKEN = "tok-ci-9876543210fedcba9876543210ab"


def test_mcp_tokens_map_bearer_tokens_to_actors_and_never_show_the_tokens() -> None:
    settings = load_settings(
        env={"ALM_BOT_MCP_TOKENS": f" {ADA_TOKEN}=U0ADA:Ada Lovelace , {CI_TOKEN}=bot-ci ,"}
    )
    assert settings.mcp_actor_for_token(ADA_TOKEN) == Actor("U0ADA", "Ada Lovelace", "mcp")
    assert settings.mcp_actor_for_token(CI_TOKEN) == Actor("bot-ci", "bot-ci", "mcp")
    assert settings.mcp_actor_for_token("tok-ada") is None
    assert settings.mcp_actor_for_token("") is None
    assert ADA_TOKEN not in repr(settings)


ONE = "secret-one-" + "1" * 32
FOUR = "secret-four-" + "4" * 32


def test_malformed_mcp_tokens_are_reported_by_position_without_echoing_tokens() -> None:
    problems = problems_of(env={"ALM_BOT_MCP_TOKENS": f"{ONE}=U1:Ada,secret-two,{ONE}=U2,=U3,{FOUR}=:x"})
    assert problems == [
        "environment: ALM_BOT_MCP_TOKENS: entry 2 is not token=actor; entry 3 repeats an earlier token; "
        "entry 4 is not token=actor; entry 5: the actor id before ':' is empty "
        "(format: token1=U123:Ada Lovelace,token2=bot-ci)"
    ]
    assert "secret" not in problems[0]


def test_a_short_mcp_token_is_refused_by_its_entry_number_without_showing_it() -> None:
    problems = problems_of(env={"ALM_BOT_MCP_TOKENS": f"{ONE}=U1:Ada,a=U2:Bob"})
    assert problems == [
        "environment: ALM_BOT_MCP_TOKENS: entry 2: the token is shorter than 32 characters "
        "(make one with: openssl rand -hex 24) (format: token1=U123:Ada Lovelace,token2=bot-ci)"
    ]
    assert "a=U2" not in problems[0]


# --- the TOML file and the defaults layer --------------------------------------------------------


def test_the_toml_file_sets_approval_models_watcher_anaplan_and_mcp(tmp_path: Path) -> None:
    settings = load_settings(env={"ALM_BOT_CONFIG": str(write(tmp_path, FULL_TOML))})
    assert settings.approval == ApprovalConfig(
        channel="C0APPROVALS",
        approvers=("U0APPROVER1", "U0APPROVER2"),
        approver_groups=("S0ALMADMINS",),
        allow_self_approval=True,
        expires_after=timedelta(minutes=90),
    )
    assert settings.models == {
        "fpa-dev": ModelConfig(id=DEV),
        "fpa-prod": ModelConfig(id=PROD, protected=True),
    }
    assert settings.watcher.anaplan_requests_per_second == 2.5
    assert settings.watcher.lease == timedelta(seconds=120)
    assert settings.anaplan.timeout_seconds == 45
    assert settings.mcp.read_only is True
    assert settings.config_file == tmp_path / "alm-bot.toml"


def test_config_file_argument_wins_over_the_variable(tmp_path: Path) -> None:
    chosen = write(tmp_path, "[mcp]\nread_only = true\n", "chosen.toml")
    settings = load_settings(env={"ALM_BOT_CONFIG": str(tmp_path / "missing.toml")}, config_file=chosen)
    assert settings.mcp.read_only is True


def test_the_file_adds_to_and_overrides_the_defaults_layer_key_by_key(tmp_path: Path) -> None:
    defaults = {
        "approval": {"channel": "C0SANDBOX", "approvers": ["U0SANDBOX"], "expires_after": "1h"},
        "models": {"dev": {"id": DEV}, "prod": {"id": PROD, "protected": True}},
    }
    file = write(
        tmp_path,
        f'[approval]\nchannel = "C0MINE"\n[models.prod]\nprotected = false\n[models.mine]\nid = "{DEV}"\n',
    )
    settings = load_settings(env={}, config_file=file, defaults=defaults)
    assert settings.approval.channel == "C0MINE"
    assert settings.approval.approvers == ("U0SANDBOX",)
    assert settings.approval.expires_after == timedelta(hours=1)
    assert settings.models == {
        "dev": ModelConfig(id=DEV),
        "prod": ModelConfig(id=PROD, protected=False),
        "mine": ModelConfig(id=DEV),
    }


def test_the_defaults_layer_alone_configures_without_a_file() -> None:
    settings = load_settings(env={}, defaults={"approval": {"channel": "C0X", "approver_groups": ["S0X"]}})
    assert settings.approval.configured
    assert settings.config_file is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("24h", timedelta(hours=24)),
        ("2d", timedelta(days=2)),
        ("3600s", timedelta(hours=1)),
        ("1h30m", timedelta(minutes=90)),
        (" 45m ", timedelta(minutes=45)),
        (7200, timedelta(hours=2)),
    ],
)
def test_durations_are_written_with_a_unit_or_as_seconds(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["1 day", "24", "h", "", "-5m", "0s", "1.5h", True])
def test_anything_else_is_not_a_duration(text: object) -> None:
    with pytest.raises(ValueError, match=r"is not a duration|longer than zero"):
        parse_duration(text)


def test_a_model_is_found_by_id_and_protected_if_any_alias_protects_it() -> None:
    settings = Settings(
        models={
            "prod": ModelConfig(id=PROD),
            "live": ModelConfig(id=PROD, protected=True),
            "dev": ModelConfig(id=DEV),
        }
    )
    assert settings.configured_model(PROD.lower()) == ModelConfig(id=PROD, protected=True)
    assert settings.configured_model(DEV) == ModelConfig(id=DEV)
    assert settings.configured_model("A" * 32) is None
    assert settings.alias_of(PROD) == "prod"
    assert settings.alias_of("A" * 32) is None


# --- one error listing every problem -------------------------------------------------------------

BROKEN_TOML = """
[approval]
approvers = ["U0APPROVER1", "@ada"]
approver_groups = ["admins"]
expires_after = "1 day"
allow_self_aproval = true

[models.fpa-prod]
id = "123"
protected = "maybe"

[models."bad alias"]
id = "0123456789ABCDEF0123456789ABCDEF"

[watcher]
poll_min_seconds = 10
poll_max_seconds = 5
lease_seconds = 0

[nonsense]
x = 1
"""


def test_every_problem_is_listed_in_one_error_naming_its_source_and_key(tmp_path: Path) -> None:
    file = write(tmp_path, BROKEN_TOML)
    dotenv = write(tmp_path, "ANAPLAN_PASSWORD=pw\n", ".env")
    problems = problems_of(
        env={
            "ALM_BOT_CONFIG": str(file),
            "ANAPLAN_CERTIFICATE": str(tmp_path / "missing.pem"),
            "ANAPLAN_PRIVATE_KEY_PASSWORD": "kp",
            "ANAPLAN_API_URL": "ftp://anaplan",
            "ALM_BOT_DATABASE_URL": "mysql://alm:db-pass@db/alm",
            "ALM_BOT_LOG_FORMAT": "xml",
            "ALM_BOT_MCP_ACTOR": ":Ada",
        },
        env_file=dotenv,
        defaults={"models": {"sandbox": {"id": "zz"}}},
    )
    f, e, d = str(file), "environment", str(dotenv)
    assert sorted(problems) == sorted(
        [
            f"{d}: ANAPLAN_USERNAME: is missing: ANAPLAN_PASSWORD is set",
            f"{e}: ANAPLAN_PRIVATE_KEY: is missing: ANAPLAN_CERTIFICATE is set",
            f"{e}: ANAPLAN_PRIVATE_KEY: is missing: ANAPLAN_PRIVATE_KEY_PASSWORD is set",
            f"{e}: ANAPLAN_CERTIFICATE: {str(tmp_path / 'missing.pem')!r} is not an existing file",
            f"{e}: ANAPLAN_API_URL: 'ftp://anaplan' is not an http(s) URL",
            f"{e}: ALM_BOT_DATABASE_URL: database driver 'mysql' is not supported: use sqlite:///path or "
            "postgresql://user@host/db (the async drivers aiosqlite/asyncpg are used either way)",
            f"{e}: ALM_BOT_LOG_FORMAT: Input should be 'text' or 'json'",
            f"{e}: ALM_BOT_MCP_ACTOR: the actor id before ':' is empty",
            f"{f}: approval.approvers[1]: '@ada' is not a Slack user id (like U0123ABCD)",
            f"{f}: approval.approver_groups[0]: 'admins' is not a Slack user-group id (like S0123ABCD)",
            f"{f}: approval.expires_after: '1 day' is not a duration: write it like 90m, 24h, 2d or 3600s",
            f"{f}: approval.allow_self_aproval: unknown key (did you mean 'allow_self_approval'?)",
            f"{f}: approval.channel: is missing: approval cards need a channel when approvers are configured",
            f"{f}: models.fpa-prod.id: '123' is not an Anaplan model id (32 hexadecimal characters)",
            f"{f}: models.fpa-prod.protected: Input should be a valid boolean, unable to interpret input",
            f"{f}: models.\"bad alias\": 'bad alias' is not a valid alias "
            "(letters, digits, '-', '_' and '.')",
            f"{f}: watcher.poll_max_seconds: is 5, below poll_min_seconds (10)",
            f"{f}: watcher.lease_seconds: Input should be greater than 0",
            f"{f}: nonsense: unknown key (check the spelling)",
            f"{DEFAULTS_LABEL}: models.sandbox.id: 'zz' is not an Anaplan model id "
            "(32 hexadecimal characters)",
        ]
    )
    assert "db-pass" not in "\n".join(problems)


def test_both_credential_methods_at_once_are_refused(tmp_path: Path) -> None:
    certificate, key = write(tmp_path, "c", "c.pem"), write(tmp_path, "k", "k.pem")
    problems = problems_of(
        env={
            "ANAPLAN_USERNAME": "ada",
            "ANAPLAN_PASSWORD": "pw",
            "ANAPLAN_CERTIFICATE": str(certificate),
            "ANAPLAN_PRIVATE_KEY": str(key),
        }
    )
    assert problems == [
        "environment: ANAPLAN_CERTIFICATE: both basic (ANAPLAN_USERNAME) and certificate credentials "
        "are set: keep one method"
    ]


def test_a_config_file_that_cannot_be_read_is_one_problem(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    assert problems_of(env={}, config_file=missing) == [
        f"{missing}: cannot be read: No such file or directory"
    ]


def test_a_config_file_that_is_not_toml_is_reported_with_the_other_problems(tmp_path: Path) -> None:
    file = write(tmp_path, "[approval\nchannel = 1\n")
    problems = problems_of(env={"ALM_BOT_LOG_FORMAT": "xml"}, config_file=file)
    assert len(problems) == 2
    assert problems[0].startswith(f"{file}: is not valid TOML: ")
    assert "line 1" in problems[0]
    assert problems[1] == "environment: ALM_BOT_LOG_FORMAT: Input should be 'text' or 'json'"


def test_the_error_message_lists_the_problems_one_per_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(env={"ALM_BOT_LOG_FORMAT": "xml", "ANAPLAN_API_URL": "nope"})
    assert str(caught.value) == (
        "alm-bot configuration is invalid (2 problem(s)):\n"
        "  - environment: ANAPLAN_API_URL: 'nope' is not an http(s) URL\n"
        "  - environment: ALM_BOT_LOG_FORMAT: Input should be 'text' or 'json'"
    )


def test_a_misspelt_key_is_answered_with_the_key_it_was_probably_meant_to_be(tmp_path: Path) -> None:
    file = write(
        tmp_path,
        '[aproval]\nchannel = "C0APPROVALS"\n'
        '[models.prod]\nid = "1497B2A3711C8A3E75250696C910CFBA"\nprotectd = true\n'
        "[watcher]\nzebra = 1\n",
    )
    problems = problems_of(env={}, config_file=file)

    assert sorted(problems) == sorted(
        [
            f"{file}: aproval: unknown key (did you mean 'approval'?)",
            f"{file}: models.prod.protectd: unknown key (did you mean 'protected'?)",
            f"{file}: watcher.zebra: unknown key (check the spelling)",
        ]
    )


def test_a_binary_config_file_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    file = tmp_path / "alm-bot.toml"
    file.write_bytes(b"\x89PNG\r\n\x1a\n\x00\xff\xfe")
    assert problems_of(env={}, config_file=file) == [
        f"{file}: is not a TOML text file (it is not UTF-8 text; binary?)"
    ]
