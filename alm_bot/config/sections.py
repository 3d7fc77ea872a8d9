"""The TOML sections of the configuration: models, approval, watcher, anaplan, mcp, windows.

The approval policy keys (how many approvals, stages, reminder, escalation) may sit in
``[approval]`` (the default) and in each ``[models.<alias>]`` (that model's own); `alm_bot.policy`
combines them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alm_bot.config.values import (
    ApproverId,
    ChannelId,
    Duration,
    GroupId,
    Positive,
    UserId,
    model_id,
)
from alm_bot.windows import ChangeWindow, Kind, parse_cron, parse_zone

RiskBlock = Literal["data-loss", "off"]
"""``data-loss``: a sync the data-loss radar says destroys data cannot be approved; ``off``: it can,
once the approver confirms what will be lost."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StageConfig(_Section):
    """One stage of an approval policy: ``count`` distinct people among ``approvers`` (users, groups)."""

    approvers: tuple[ApproverId, ...] = Field(min_length=1)
    count: int = Field(default=1, ge=1)
    name: str = ""

    @model_validator(mode="after")
    def _enough_people(self) -> Self:
        named_people = [a for a in self.approvers if not a.startswith("S")]
        if len(named_people) == len(self.approvers) and self.count > len(named_people):
            raise ValueError(f"count is {self.count} but the stage names only {len(named_people)} people")
        return self


class _PolicyKeys(_Section):
    """The approval policy keys, checked for the combinations that cannot mean anything."""

    @model_validator(mode="after")
    def _consistent_policy(self) -> Self:
        given = self.model_fields_set
        if {"approvals_required", "stages"} <= given:
            raise ValueError("give approvals_required or stages, not both (a stage has its own count)")
        if ("escalate_after" in given) != ("escalate_to" in given):
            raise ValueError('escalate_after and escalate_to go together: escalate_to = ["U…"] after "6h"')
        return self


class ModelConfig(_PolicyKeys):
    """A configured model alias: its id, whether changes always need approval, and its own policy."""

    id: Annotated[str, AfterValidator(model_id)]
    protected: bool = False
    approvals_required: int | None = Field(default=None, ge=1)
    stages: tuple[StageConfig, ...] | None = Field(default=None, min_length=1)
    remind_after: Duration | None = None
    escalate_after: Duration | None = None
    escalate_to: tuple[ApproverId, ...] | None = Field(default=None, min_length=1)
    block_on_risk: RiskBlock | None = None  # None: as ``[approval] block_on_risk`` says


class ApprovalConfig(_PolicyKeys):
    """Who approves protected changes, where the cards go, how long a request waits: the default policy."""

    approvers: tuple[UserId, ...] = ()
    approver_groups: tuple[GroupId, ...] = ()
    allow_self_approval: bool = False
    expires_after: Duration = timedelta(hours=24)
    # Who may run a scheduled request now, outside its change window (user or user-group ids).
    override_approvers: tuple[UserId | GroupId, ...] = ()
    approvals_required: int = Field(default=1, ge=1)
    stages: tuple[StageConfig, ...] = ()
    remind_after: Duration | None = None
    escalate_after: Duration | None = None
    escalate_to: tuple[ApproverId, ...] = ()
    block_on_risk: RiskBlock = "off"
    # Declared after approvers/approver_groups: its validator reads them.
    channel: ChannelId | None = Field(default=None, validate_default=True)

    @field_validator("channel")
    @classmethod
    def _channel_needed_by_approvers(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A key missing from info.data failed its own validation: it was given, so it counts.
        named = [info.data.get(key, True) for key in ("approvers", "approver_groups", "stages")]
        if value is None and any(named):
            raise ValueError("is missing: approval cards need a channel when approvers are configured")
        return value

    @model_validator(mode="after")
    def _enough_approvers(self) -> Self:
        if not self.approver_groups and self.approvers and self.approvals_required > len(self.approvers):
            raise ValueError(
                f"approvals_required is {self.approvals_required} but approvers names only "
                f"{len(self.approvers)} people (and approver_groups no groups)"
            )
        return self

    @property
    def configured(self) -> bool:
        """True when someone can approve: at least one approver or approver group (or a stage)."""
        return bool(self.approvers or self.approver_groups or self.stages)


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


class WindowConfig(_Section):
    """One ``[[windows]]`` entry: when its models may (allow) or may not (deny) change."""

    models: tuple[str, ...] = Field(min_length=1)
    kind: Kind
    cron: Annotated[str, AfterValidator(parse_cron)] | None = None
    duration: Duration | None = None
    start: datetime | None = None
    end: datetime | None = None
    timezone: Annotated[str, AfterValidator(lambda name: parse_zone(name).key)] = "UTC"
    reason: str = ""

    @field_validator("start", "end")
    @classmethod
    def _wall_clock(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError(
                "must be a local time without an offset, like 2026-12-24T00:00: set the zone in timezone"
            )
        return value

    @model_validator(mode="after")
    def _one_schedule(self) -> Self:
        self.numbered(0)  # builds the window once so that its problems are configuration problems
        return self

    def numbered(self, number: int) -> ChangeWindow:
        """The window, as the ``number``-th of the file (its name when it has no reason)."""
        if (self.cron is None) == (self.start is None):
            raise ValueError("give either cron (with duration) or start (with end), not both or neither")
        if self.cron is not None:
            if self.duration is None or self.end is not None:
                raise ValueError('a cron window needs a duration (like duration = "2h") and no end')
            return ChangeWindow.recurring(
                number, self.models, self.kind, self.cron, self.duration, self.timezone, self.reason
            )
        if self.start is None or self.end is None or self.duration is not None:
            raise ValueError('a start window needs an end (like end = "2026-12-27T00:00") and no duration')
        zone, reason = self.timezone, self.reason
        return ChangeWindow.once(number, self.models, self.kind, self.start, self.end, zone, reason)
