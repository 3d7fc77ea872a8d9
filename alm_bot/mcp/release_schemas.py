"""The shapes of a release for an AI assistant: each target and where it stands, and the tool's answer.

A release is a sync request with several targets; `TargetOut` is one of them (``alm_get_request``
lists them in ``targets``), `ReleaseOutcome` what ``alm_request_release`` and
``alm_drop_release_targets`` answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ReleaseOutcome", "TargetOut", "TargetState"]

TargetState = Literal["waiting", "starting", "running", "succeeded", "failed", "skipped", "dropped"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class TargetModelOut(_Out):
    id: str
    name: str
    alias: str | None = None


class TargetOut(_Out):
    """One target of a release."""

    position: int
    wave: int = Field(description="From 1; waves run in order, a wave's targets in parallel.")
    model: TargetModelOut
    current_revision: str | None = Field(description="Its latest revision when planned.")
    state: TargetState = Field(description="skipped: not started after an earlier failure.")
    blocked_reason: str | None = Field(default=None, description="Why preflight blocked it.")
    created: int | None = None
    modified: int | None = None
    deleted: int | None = None
    task_id: str | None = None
    message: str | None = Field(default=None, description="Why it failed.")


class ReleaseOutcome(_Out):
    """What asking for a release (or dropping its blocked targets) produced."""

    status: Literal["awaiting_approval", "started", "succeeded", "failed", "blocked", "cancelled"] = Field(
        description="blocked: nobody is asked until the blocked targets are dropped."
    )
    request_id: str
    message: str = Field(description="What happened and what happens next.")
    revision: str = Field(description="The source revision every target gets.")
    targets: list[TargetOut]
    blocked: list[str] = Field(default_factory=list, description="Ids of the blocked targets.")
    approvers: list[str] = Field(default_factory=list)
    expires_at: datetime | None = None
