"""``Settings``: the frozen, validated configuration every part of alm-bot reads."""

from __future__ import annotations

import difflib
import hmac
from pathlib import Path
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from alm_bot.actor import Actor
from alm_bot.config.regions import REGIONS, Region
from alm_bot.config.releases import ReleaseConfig
from alm_bot.config.sections import (
    AnaplanConfig,
    ApprovalConfig,
    McpConfig,
    ModelConfig,
    WatcherConfig,
    WindowConfig,
)
from alm_bot.config.values import (
    ModelAlias,
    database_url_value,
    default_database_url,
    fernet_key,
    http_url,
    is_pkcs12,
    mcp_actor_value,
    mcp_tokens_value,
    optional_http_url,
)
from alm_bot.windows import ANY_MODEL, ChangeWindow


class Settings(BaseSettings):
    """Everything alm-bot is configured with. Build it with ``load_settings()``.

    Constructing ``Settings(...)`` directly takes keyword values only (field names or the variable
    names) and reads nothing: ``load_settings`` is the one place that reads the environment.
    """

    model_config = SettingsConfigDict(extra="forbid", frozen=True, validate_by_name=True)

    anaplan_api_url: Annotated[str, AfterValidator(http_url)] = Field(
        default="https://api.anaplan.com/2/0", alias="ANAPLAN_API_URL"
    )
    anaplan_auth_url: Annotated[str, AfterValidator(http_url)] = Field(
        default="https://auth.anaplan.com", alias="ANAPLAN_AUTH_URL"
    )
    anaplan_username: str | None = Field(default=None, alias="ANAPLAN_USERNAME")
    anaplan_password: SecretStr | None = Field(default=None, alias="ANAPLAN_PASSWORD")
    anaplan_certificate: Path | None = Field(default=None, alias="ANAPLAN_CERTIFICATE")
    anaplan_private_key: Path | None = Field(default=None, alias="ANAPLAN_PRIVATE_KEY")
    anaplan_private_key_password: SecretStr | None = Field(default=None, alias="ANAPLAN_PRIVATE_KEY_PASSWORD")
    anaplan_cert_format: Literal["v1", "v2"] = Field(default="v2", alias="ANAPLAN_CERT_FORMAT")
    anaplan_region: Region | None = Field(default=None, alias="ANAPLAN_REGION")
    anaplan_oauth_url: Annotated[str, AfterValidator(http_url)] = Field(
        default="https://us1a.app.anaplan.com", alias="ANAPLAN_OAUTH_URL"
    )
    anaplan_oauth_client_id: str | None = Field(default=None, alias="ANAPLAN_OAUTH_CLIENT_ID")
    anaplan_oauth_client_secret: SecretStr | None = Field(default=None, alias="ANAPLAN_OAUTH_CLIENT_SECRET")
    anaplan_ca_bundle: Path | None = Field(default=None, alias="ANAPLAN_CA_BUNDLE")
    anaplan_proxy: Annotated[str, AfterValidator(http_url)] | None = Field(
        default=None, alias="ANAPLAN_PROXY"
    )
    secret_key: Annotated[SecretStr, AfterValidator(fernet_key)] | None = Field(
        default=None, alias="ALM_BOT_SECRET_KEY"
    )
    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    # Unset: the Slack front end uses Slack's own API (the core names no Slack address).
    slack_api_url: Annotated[str | None, AfterValidator(optional_http_url)] = Field(
        default=None, alias="SLACK_API_URL"
    )
    database_url: Annotated[SecretStr, BeforeValidator(database_url_value)] = Field(
        default_factory=default_database_url, alias="ALM_BOT_DATABASE_URL"
    )
    config_file: Path | None = Field(default=None, alias="ALM_BOT_CONFIG")
    mcp_tokens: Annotated[dict[SecretStr, Actor], BeforeValidator(mcp_tokens_value)] = Field(
        default_factory=dict, alias="ALM_BOT_MCP_TOKENS"
    )
    mcp_actor: Annotated[Actor | None, BeforeValidator(mcp_actor_value)] = Field(
        default=None, alias="ALM_BOT_MCP_ACTOR"
    )
    mcp_oauth_issuer: Annotated[str, AfterValidator(http_url)] | None = Field(
        default=None, alias="ALM_BOT_MCP_OAUTH_ISSUER"
    )
    mcp_oauth_audience: Annotated[str, AfterValidator(http_url)] | None = Field(
        default=None, alias="ALM_BOT_MCP_OAUTH_AUDIENCE"
    )
    mcp_oauth_jwks_url: Annotated[str, AfterValidator(http_url)] | None = Field(
        default=None, alias="ALM_BOT_MCP_OAUTH_JWKS_URL"
    )
    mcp_oauth_identity_claim: str = Field(
        default="slack_user_id", min_length=1, alias="ALM_BOT_MCP_OAUTH_IDENTITY_CLAIM"
    )
    log_format: Literal["text", "json"] = Field(default="text", alias="ALM_BOT_LOG_FORMAT")

    @field_validator("mcp_oauth_audience", "mcp_oauth_jwks_url")
    @classmethod
    def _needs_the_issuer(cls, value: str | None, info: ValidationInfo) -> str | None:
        # Set without the issuer it would do nothing at all, and MCP would run without OAuth.
        if value is not None and info.data.get("mcp_oauth_issuer") is None:
            raise ValueError("is set but ALM_BOT_MCP_OAUTH_ISSUER is not: set the issuer too, or unset it")
        return value

    approval: ApprovalConfig = ApprovalConfig()
    models: dict[ModelAlias, ModelConfig] = Field(default_factory=dict)
    watcher: WatcherConfig = WatcherConfig()
    anaplan: AnaplanConfig = AnaplanConfig()
    mcp: McpConfig = McpConfig()
    releases: dict[ModelAlias, ReleaseConfig] = Field(default_factory=dict)  # named release groups
    # Declared after models: its validator reads them.
    windows: tuple[WindowConfig, ...] = ()

    @field_validator("models")
    @classmethod
    def _policies_can_be_met(
        cls, models: dict[str, ModelConfig], info: ValidationInfo
    ) -> dict[str, ModelConfig]:
        approval = info.data.get("approval")
        if not isinstance(approval, ApprovalConfig):
            return models  # [approval] failed its own validation
        problems = []
        for alias, model in models.items():
            if (model.stages or model.escalate_to) and approval.channel is None:
                problems.append(f"{alias}: its policy names approvers, so [approval] needs a channel")
            wanted = model.approvals_required or 0
            if not approval.approver_groups and wanted > len(approval.approvers):
                problems.append(
                    f"{alias}: approvals_required is {wanted} but [approval] names only "
                    f"{len(approval.approvers)} approvers (and no groups)"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return models

    @field_validator("windows")
    @classmethod
    def _windows_name_known_models(
        cls, windows: tuple[WindowConfig, ...], info: ValidationInfo
    ) -> tuple[WindowConfig, ...]:
        aliases = list(info.data.get("models") or {})
        unknown = []
        for number, window in enumerate(windows, start=1):
            for name in (n for n in window.models if n != ANY_MODEL and n not in aliases):
                close = difflib.get_close_matches(name, aliases, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ' (or "*" for every model)'
                unknown.append(f"window {number} names {name!r}, which is not a [models.*] alias{hint}")
        if unknown:
            raise ValueError("; ".join(unknown))
        return windows

    @property
    def change_windows(self) -> tuple[ChangeWindow, ...]:
        """The ``[[windows]]``, numbered from 1 in file order, for ``alm_bot.windows.decide``."""
        return tuple(w.numbered(n) for n, w in enumerate(self.windows, start=1))

    @model_validator(mode="before")
    @classmethod
    def _region_hosts(cls, data: Any) -> Any:
        """``ANAPLAN_REGION`` fills in the three Anaplan URLs that are not set explicitly."""
        if not isinstance(data, dict):
            return data
        region = data.get("ANAPLAN_REGION", data.get("anaplan_region"))
        hosts = REGIONS.get(region) if isinstance(region, str) else None
        if hosts is None:
            return data
        filled = dict(data)
        for alias, name, url in (
            ("ANAPLAN_API_URL", "anaplan_api_url", hosts.api_url),
            ("ANAPLAN_AUTH_URL", "anaplan_auth_url", hosts.auth_url),
            ("ANAPLAN_OAUTH_URL", "anaplan_oauth_url", hosts.oauth_url),
        ):
            if alias not in filled and name not in filled:
                filled[alias] = url
        return filled

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
        """True when basic, certificate or OAuth credentials for Anaplan are configured."""
        basic = self.anaplan_username is not None and self.anaplan_password is not None
        certificate = self.anaplan_certificate is not None and (
            self.anaplan_private_key is not None or is_pkcs12(self.anaplan_certificate)
        )
        oauth = self.anaplan_oauth_client_id is not None and self.secret_key is not None
        return basic or certificate or oauth

    def configured_model(self, model_id: str) -> ModelConfig | None:
        """The configuration of a model by id (protected if any alias of it is protected)."""
        matches = [m for m in self.models.values() if m.id.upper() == model_id.upper()]
        if not matches:
            return None
        return ModelConfig(id=matches[0].id, protected=any(m.protected for m in matches))

    def model_configs(self, model_id: str) -> dict[str, ModelConfig]:
        """Every alias configured for a model id, with its configuration (the policy reads them all)."""
        return {a: m for a, m in self.models.items() if m.id.upper() == model_id.upper()}

    def alias_of(self, model_id: str) -> str | None:
        """The first configured alias of a model id, for display."""
        return next((a for a, m in self.models.items() if m.id.upper() == model_id.upper()), None)

    def secret_values(self) -> list[str]:
        """Every configured secret in clear, for the log filter that masks them."""
        values = [
            self.anaplan_password,
            self.anaplan_private_key_password,
            self.anaplan_oauth_client_secret,
            self.secret_key,
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


ENV_FIELDS: Final = {f.alias: name for name, f in Settings.model_fields.items() if f.alias}
