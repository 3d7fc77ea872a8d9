"""The TOML sections of the configuration: models, approval, watcher, anaplan, mcp."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from alm_bot.config.values import ChannelId, Duration, GroupId, Positive, UserId, model_id


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelConfig(_Section):
    """A configured model alias: its id and whether changes to it always need approval."""

    id: Annotated[str, AfterValidator(model_id)]
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
    poll_near_end_seconds: Positive = 1.5
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
