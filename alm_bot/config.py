"""Settings: the only reader of the environment, the ``.env`` file and the TOML config file.

``load_settings()`` reads everything, checks everything, and either returns a frozen ``Settings``
or raises ONE ``ConfigError`` that lists every problem as ``source: key: what is wrong``.

Environment (a ``.env`` file in the working directory is read too; real variables win):

========================== ================================================================
``ANAPLAN_API_URL``        default ``https://api.anaplan.com/2/0``
``ANAPLAN_AUTH_URL``       default ``https://auth.anaplan.com``
``ANAPLAN_USERNAME``       basic authentication, with ``ANAPLAN_PASSWORD``
``ANAPLAN_CERTIFICATE``    certificate authentication: path of the PEM certificate, with
``ANAPLAN_PRIVATE_KEY``    the path of its private key (``ANAPLAN_PRIVATE_KEY_PASSWORD`` if encrypted)
``SLACK_BOT_TOKEN``        ``xoxb-…``; ``SLACK_SIGNING_SECRET`` (HTTP mode), ``SLACK_APP_TOKEN`` (Socket Mode)
``SLACK_API_URL``          default ``https://slack.com/api/``
``ALM_BOT_DATABASE_URL``   default: SQLite file ``alm-bot.db`` in the working directory. Accepts
                           ``sqlite:///path``, ``sqlite+aiosqlite:///path``, ``postgresql://…``,
                           ``postgresql+asyncpg://…``; always used through the async driver.
``ALM_BOT_CONFIG``         path of the TOML file below
``ALM_BOT_MCP_TOKENS``     bearer tokens of MCP HTTP clients and who they act as, comma-separated
                           ``token=actor`` pairs: ``k8Hq…=U123:Ada Lovelace,Zp3x…=bot-ci``. An actor is
                           ``id:Display Name`` or just ``id``. Map a person's token to their Slack user
                           id so that the four-eyes rule recognises them. Tokens contain no ``,``/``=``.
``ALM_BOT_MCP_ACTOR``      who a stdio MCP client acts as, same actor format: ``U123:Ada`` or ``ada``
``ALM_BOT_LOG_FORMAT``     ``text`` (default) or ``json``
========================== ================================================================

TOML file (every key optional; unknown keys are refused so typos surface)::

    [approval]
    channel = "C0APPROVALS"                     # where approval cards go (needed when approvers exist)
    approvers = ["U0APPROVER1", "U0APPROVER2"]  # Slack user ids
    approver_groups = ["S0ALMADMINS"]           # Slack user-group ids
    allow_self_approval = false
    expires_after = "24h"                       # "90m", "2d", "3600s", "1h30m" or seconds

    [models.fpa-prod]                           # an alias usable wherever a model is named
    id = "0123456789ABCDEF0123456789ABCDEF"     # 32 hex digits
    protected = true                            # changes need approval even when not deployed

    [watcher]
    anaplan_requests_per_second = 5
    poll_min_seconds = 1                        # first poll of a task, then backing off to …
    poll_max_seconds = 15
    lease_seconds = 60                          # how long a claimed task/notice is reserved

    [anaplan]
    timeout_seconds = 30

    [mcp]
    read_only = false
"""

from __future__ import annotations

import hmac
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from alm_bot.actor import Actor, parse_actor
from alm_bot.errors import ConfigError

__all__ = [
    "AnaplanConfig",
    "ApprovalConfig",
    "McpConfig",
    "ModelConfig",
    "Settings",
    "WatcherConfig",
    "async_database_url",
    "load_settings",
    "parse_duration",
]

DEFAULTS_LABEL: Final = "built-in defaults"
_ENV_LABEL: Final = "environment"
_DURATION_PART: Final = re.compile(r"(\d+)([smhd])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_MODEL_ID: Final = re.compile(r"[0-9A-Fa-f]{32}")
_ALIAS: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ASYNC_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


# --- value parsers (each raises ValueError with the "what is wrong" part of a problem) ----------


def parse_duration(value: object) -> timedelta:
    """``"90m"``, ``"24h"``, ``"2d"``, ``"3600s"``, ``"1h30m"`` or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _is_duration(value.strip()):
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value.strip()))
    else:
        raise ValueError(f"{value!r} is not a duration: write it like 90m, 24h, 2d or 3600s")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)


def _is_duration(text: str) -> bool:
    return bool(text) and _DURATION_PART.sub("", text) == ""


def async_database_url(url: str) -> str:
    """Normalise a database URL to its async driver; ``ValueError`` (without the password) if unsupported.

    Parsed by hand rather than with SQLAlchemy's ``make_url``: importing SQLAlchemy costs a few
    hundred milliseconds, and ``alm-bot mcp`` must answer its first request quickly.
    """
    scheme, separator, rest = url.strip().partition("://")
    if not separator or not scheme:
        raise ValueError("is not a database URL: use sqlite:///path or postgresql://user@host/db")
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        raise ValueError(
            f"database driver {scheme!r} is not supported: use sqlite:///path or "
            "postgresql://user@host/db (the async drivers aiosqlite/asyncpg are used either way)"
        )
    if driver.startswith("sqlite") and not rest.partition("/")[2].partition("?")[0]:
        raise ValueError("names no SQLite file: use sqlite:///path/to/alm-bot.db")
    return f"{driver}://{rest}"


def _default_database_url() -> SecretStr:
    return SecretStr(f"sqlite+aiosqlite:///{Path.cwd() / 'alm-bot.db'}")


def _database_url(value: object) -> object:
    if isinstance(value, str):
        return SecretStr(async_database_url(value))
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def _mcp_tokens(value: object) -> object:
    """``tok1=U1:Ada,tok2=bot`` → {SecretStr(tok1): Actor, …}. Never echoes a token in an error."""
    if not isinstance(value, str):
        return value
    tokens: dict[SecretStr, Actor] = {}
    wrong: list[str] = []
    entries = [e.strip() for e in value.split(",") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        token, equals, spec = (part.strip() for part in entry.partition("="))
        if not equals or not token:
            wrong.append(f"entry {number} is not token=actor")
        elif SecretStr(token) in tokens:
            wrong.append(f"entry {number} repeats an earlier token")
        else:
            try:
                tokens[SecretStr(token)] = parse_actor(spec, "mcp")
            except ValueError as exc:
                wrong.append(f"entry {number}: {exc}")
    if wrong:
        raise ValueError("; ".join(wrong) + " (format: token1=U123:Ada Lovelace,token2=bot-ci)")
    return tokens


def _mcp_actor(value: object) -> object:
    return parse_actor(value, "mcp") if isinstance(value, str) else value


def _slack_id(kind: str, pattern: str, example: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slack {kind} id (like {example})")
        return value

    return check


def _model_id(value: str) -> str:
    if not _MODEL_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not an Anaplan model id (32 hexadecimal characters)")
    return value


UserId = Annotated[str, AfterValidator(_slack_id("user", r"[UW][A-Z0-9]+", "U0123ABCD"))]
GroupId = Annotated[str, AfterValidator(_slack_id("user-group", r"S[A-Z0-9]+", "S0123ABCD"))]
ChannelId = Annotated[str, AfterValidator(_slack_id("channel", r"[CG][A-Z0-9]+", "C0123ABCD"))]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ModelAlias = Annotated[str, Field(pattern=_ALIAS)]
Positive = Annotated[float, Field(gt=0)]


# --- the TOML sections ---------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Section):
    """A configured model alias: its id and whether changes to it always need approval."""

    id: Annotated[str, AfterValidator(_model_id)]
    protected: bool = False


class ApprovalConfig(_Section):
    """Who approves protected changes, where the cards go, and how long a request waits."""

    approvers: tuple[UserId, ...] = ()
    approver_groups: tuple[GroupId, ...] = ()
    allow_self_approval: bool = False
    expires_after: Duration = timedelta(hours=24)
    # Declared after approvers/approver_groups: its validator reads them.
    channel: ChannelId | None = Field(default=None, validate_default=True)

    @field_validator("channel")
    @classmethod
    def _channel_needed_by_approvers(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A key missing from info.data failed its own validation: it was given, so it counts.
        named = [info.data.get(key, True) for key in ("approvers", "approver_groups")]
        if value is None and any(named):
            raise ValueError("is missing: approval cards need a channel when approvers are configured")
        return value

    @property
    def configured(self) -> bool:
        """True when someone can approve: at least one approver or approver group."""
        return bool(self.approvers or self.approver_groups)


class WatcherConfig(_Section):
    """How the watcher paces Anaplan polls and how long it reserves the work it claims."""

    anaplan_requests_per_second: Positive = 5.0
    poll_min_seconds: Positive = 1.0
    poll_max_seconds: Positive = 15.0
    lease_seconds: Positive = 60.0

    @field_validator("poll_max_seconds")
    @classmethod
    def _max_not_below_min(cls, value: float, info: ValidationInfo) -> float:
        low = info.data.get("poll_min_seconds")
        if low is not None and value < low:
            raise ValueError(f"is {value:g}, below poll_min_seconds ({low:g})")
        return value

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class AnaplanConfig(_Section):
    """Anaplan client tuning."""

    timeout_seconds: Positive = 30.0


class McpConfig(_Section):
    """MCP server behaviour."""

    read_only: bool = False


# --- Settings ------------------------------------------------------------------------------------


class Settings(BaseSettings):
    """Everything alm-bot is configured with. Build it with ``load_settings()``.

    Constructing ``Settings(...)`` directly takes keyword values only (field names or the variable
    names) and reads nothing: ``load_settings`` is the one place that reads the environment.
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    anaplan_api_url: Annotated[str, AfterValidator(_http_url)] = Field(
        default="https://api.anaplan.com/2/0", alias="ANAPLAN_API_URL"
    )
    anaplan_auth_url: Annotated[str, AfterValidator(_http_url)] = Field(
        default="https://auth.anaplan.com", alias="ANAPLAN_AUTH_URL"
    )
    anaplan_username: str | None = Field(default=None, alias="ANAPLAN_USERNAME")
    anaplan_password: SecretStr | None = Field(default=None, alias="ANAPLAN_PASSWORD")
    anaplan_certificate: Path | None = Field(default=None, alias="ANAPLAN_CERTIFICATE")
    anaplan_private_key: Path | None = Field(default=None, alias="ANAPLAN_PRIVATE_KEY")
    anaplan_private_key_password: SecretStr | None = Field(default=None, alias="ANAPLAN_PRIVATE_KEY_PASSWORD")
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: Annotated[str, AfterValidator(_http_url)] = Field(
        default="https://slack.com/api/", alias="SLACK_API_URL"
    )
    database_url: Annotated[SecretStr, BeforeValidator(_database_url)] = Field(
        default_factory=_default_database_url, alias="ALM_BOT_DATABASE_URL"
    )
    config_file: Path | None = Field(default=None, alias="ALM_BOT_CONFIG")
    mcp_tokens: Annotated[dict[SecretStr, Actor], BeforeValidator(_mcp_tokens)] = Field(
        default_factory=dict, alias="ALM_BOT_MCP_TOKENS"
    )
    mcp_actor: Annotated[Actor | None, BeforeValidator(_mcp_actor)] = Field(
        default=None, alias="ALM_BOT_MCP_ACTOR"
    )
    log_format: Literal["text", "json"] = Field(default="text", alias="ALM_BOT_LOG_FORMAT")

    approval: ApprovalConfig = ApprovalConfig()
    models: dict[ModelAlias, ModelConfig] = Field(default_factory=dict)
    watcher: WatcherConfig = WatcherConfig()
    anaplan: AnaplanConfig = AnaplanConfig()
    mcp: McpConfig = McpConfig()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # load_settings() gathers the environment itself (so tests can pass a mapping and errors
        # can name their source); the class only validates what it is given.
        return (init_settings,)

    @property
    def anaplan_credentials_present(self) -> bool:
        """True when basic or certificate credentials for Anaplan are configured."""
        basic = self.anaplan_username is not None and self.anaplan_password is not None
        certificate = self.anaplan_certificate is not None and self.anaplan_private_key is not None
        return basic or certificate

    def configured_model(self, model_id: str) -> ModelConfig | None:
        """The configuration of a model by id (protected if any alias of it is protected)."""
        matches = [m for m in self.models.values() if m.id.upper() == model_id.upper()]
        if not matches:
            return None
        return ModelConfig(id=matches[0].id, protected=any(m.protected for m in matches))

    def alias_of(self, model_id: str) -> str | None:
        """The first configured alias of a model id, for display."""
        return next((a for a, m in self.models.items() if m.id.upper() == model_id.upper()), None)

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for the log filter that masks them."""
        values = [
            self.anaplan_password,
            self.anaplan_private_key_password,
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            *self.mcp_tokens,
        ]
        secrets = [v.get_secret_value() for v in values if v is not None]
        database_password = urlsplit(self.database_url.get_secret_value()).password
        return [*secrets, database_password] if database_password else secrets

    def mcp_actor_for_token(self, token: str) -> Actor | None:
        """Who an MCP bearer token acts as; compares every token in constant time."""
        found: Actor | None = None
        for known, actor in self.mcp_tokens.items():
            if hmac.compare_digest(known.get_secret_value().encode(), token.encode()):
                found = actor
        return found


_ENV_FIELDS: Final = {f.alias: name for name, f in Settings.model_fields.items() if f.alias}


# --- load_settings -------------------------------------------------------------------------------


class _Unset:
    """Marks "not passed" where None means "no file"."""


_UNSET: Final = _Unset()


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    defaults: Mapping[str, Any] | None = None,
    env_file: Path | _Unset | None = _UNSET,
) -> Settings:
    """Read and check the whole configuration; raise one ``ConfigError`` listing every problem.

    ``env`` replaces ``os.environ`` (tests, embedding). ``env_file`` is the ``.env`` to read under
    the environment: by default ``./.env`` when reading ``os.environ`` and none when ``env`` is
    given. ``config_file`` replaces ``ALM_BOT_CONFIG``. ``defaults`` is a TOML-shaped layer under
    the file: the file adds to it and overrides it key by key.
    """
    if isinstance(env_file, _Unset):
        env_file = Path(".env") if env is None else None
    variables, origins = _gather_variables(os.environ if env is None else env, env_file)
    problems: list[str] = []
    path = config_file or (Path(variables["ALM_BOT_CONFIG"]) if "ALM_BOT_CONFIG" in variables else None)
    file_data = _read_toml(path, problems) if path is not None else {}
    layers = _Layers(dict(defaults or {}), file_data, str(path) if path else DEFAULTS_LABEL)
    values: dict[str, Any] = {name: variables[name] for name in _ENV_FIELDS if name in variables}
    if path is not None:
        values["ALM_BOT_CONFIG"] = str(path)
    values.update(_deep_merge(layers.defaults, layers.file))
    problems += _credential_problems(variables, origins)
    try:
        settings = Settings(**values)
    except ValidationError as error:
        problems += [_describe(detail, origins, layers) for detail in error.errors()]
    if problems:
        raise ConfigError(problems)
    return settings


def _gather_variables(
    environ: Mapping[str, str], env_file: Path | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Known variables from the environment over the ``.env`` file; empty values count as unset."""
    variables: dict[str, str] = {}
    origins: dict[str, str] = {}
    if env_file is not None:
        dotenv = DotEnvSettingsSource(Settings, env_file=env_file, case_sensitive=True).env_vars
        for name, value in dotenv.items():
            if value:
                variables[name], origins[name] = value, str(env_file)
    for name in _ENV_FIELDS:
        if environ.get(name):
            variables[name], origins[name] = environ[name], _ENV_LABEL
    return variables, origins


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        problems.append(f"{path}: cannot be read: {exc.strerror or exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: is not valid TOML: {exc}")
    return {}


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(below, value)
        else:
            merged[key] = value
    return merged


class _Layers:
    """The TOML-shaped layers, to tell which one a problem key came from."""

    def __init__(self, defaults: dict[str, Any], file: dict[str, Any], file_label: str) -> None:
        self.defaults, self.file, self.file_label = defaults, file, file_label

    def origin(self, loc: tuple[str | int, ...]) -> str:
        in_file, in_defaults = _depth(self.file, loc), _depth(self.defaults, loc)
        return DEFAULTS_LABEL if in_defaults > in_file else self.file_label


def _depth(data: Any, loc: tuple[str | int, ...]) -> int:
    """How many leading keys of ``loc`` exist in ``data``."""
    depth = 0
    for key in loc:
        if not isinstance(data, Mapping) or key not in data:
            break
        data, depth = data[key], depth + 1
    return depth


def _describe(detail: ErrorDetails, origins: Mapping[str, str], layers: _Layers) -> str:
    loc = detail["loc"]
    head = str(loc[0]) if loc else ""
    source = origins.get(head, _ENV_LABEL) if head in _ENV_FIELDS else layers.origin(loc)
    return f"{source}: {_key_path(loc)}: {_what(detail)}"


def _key_path(loc: tuple[str | int, ...]) -> str:
    """``approval.approvers[1]``, ``models."bad alias"`` (TOML's way of writing odd keys)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for "the dict key itself is wrong"
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            path += f".{key}" if path else key
    return path


def _what(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return "unknown key (check the spelling)"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return f"{detail['input']!r} is not a valid alias (letters, digits, '-', '_' and '.')"
    message = detail["msg"]
    return message.removeprefix("Value error, ")


def _credential_problems(variables: Mapping[str, str], origins: Mapping[str, str]) -> list[str]:
    """Anaplan credentials must be one complete method, and key files must exist."""
    problems: list[str] = []

    def missing(name: str, because: str) -> None:
        problems.append(f"{origins.get(because, _ENV_LABEL)}: {name}: is missing: {because} is set")

    pairs = [
        ("ANAPLAN_USERNAME", "ANAPLAN_PASSWORD"),
        ("ANAPLAN_CERTIFICATE", "ANAPLAN_PRIVATE_KEY"),
        ("ANAPLAN_PRIVATE_KEY", "ANAPLAN_PRIVATE_KEY_PASSWORD"),
    ]
    for first, second in pairs[:2]:
        if first in variables and second not in variables:
            missing(second, first)
        if second in variables and first not in variables:
            missing(first, second)
    if pairs[2][1] in variables and pairs[2][0] not in variables:
        missing(pairs[2][0], pairs[2][1])
    if "ANAPLAN_USERNAME" in variables and "ANAPLAN_CERTIFICATE" in variables:
        problems.append(
            f"{origins['ANAPLAN_CERTIFICATE']}: ANAPLAN_CERTIFICATE: both basic (ANAPLAN_USERNAME) and "
            "certificate credentials are set: keep one method"
        )
    for name in ("ANAPLAN_CERTIFICATE", "ANAPLAN_PRIVATE_KEY"):
        if name in variables and not Path(variables[name]).is_file():
            problems.append(f"{origins[name]}: {name}: {variables[name]!r} is not an existing file")
    return problems
