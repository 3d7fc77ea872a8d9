"""The typed records that cross the layers: a request's plan, an outcome, the notice payloads.

They are stored as JSON (``alm_bot.store.tables.JsonRecord`` validates on the way in and out), read
by the core, the watcher and every front end as attributes — never as ``dict`` look-ups.

- `SyncPlan | StatusPlan` (`Plan`, told apart by ``operation``): what was planned and approved. A sync
  carries its targets as a tuple, one today, so a release into several targets fits the same shape.
- `TaskOutcome`: how an Anaplan task, or a whole request, ended; failures alm-bot decides itself carry
  their facts (`cause`, `stale`, `considered_task_ids`) for each front end to word.
- One payload model per notice kind (`NoticePayload`, told apart by ``kind``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from alm_bot.anaplan.models import SummaryReport
from alm_bot.radar.findings import ReportReading, Risk

__all__ = [
    "ApprovalEscalated",
    "ApprovalNeeded",
    "ApprovalReminder",
    "CardRefused",
    "ComparisonReady",
    "DecidedOutsideSlack",
    "FailureCause",
    "ModelRef",
    "NoticePayload",
    "NoticesRecovered",
    "OnFailure",
    "Plan",
    "PlanDigest",
    "ReleaseNotesReady",
    "RequestCancelled",
    "RequestDecided",
    "RequestExpired",
    "RequestUpdated",
    "RevisionRef",
    "RiskOverridden",
    "StalePlanFacts",
    "StartIntent",
    "StatusPlan",
    "SyncPlan",
    "SyncTarget",
    "SyncVerified",
    "TargetFinished",
    "TaskFinished",
    "TaskOutcome",
    "TaskProgress",
    "Verification",
    "VerificationCheck",
    "WindowHold",
    "WindowOverridden",
]


class Record(BaseModel):
    """Immutable; unknown keys are ignored so an older process reads a newer row."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class ModelRef(Record):
    id: str
    name: str
    alias: str | None = None


class RevisionRef(Record):
    id: str
    name: str
    description: str | None = None
    created_by: str | None = None
    created_on: datetime | None = None


class SyncTarget(Record):
    """One target of a sync: the model, the revision it was at when planned, its change summary and
    the data-loss radar's verdict (``risk``; ``None`` while the summary or the full report — fetched
    for protected targets — is still being computed, and on rows older than the radar)."""

    model: ModelRef
    revision: RevisionRef
    summary_task_id: str | None = None
    summary: SummaryReport | None = None
    summary_error: str | None = None
    report_task_id: str | None = None
    report: ReportReading | None = None
    report_error: str | None = None
    risk: Risk | None = None
    wave: int = 0  # a release runs its targets wave by wave, 0 first; a plain sync has one wave


OnFailure = Literal["stop", "continue"]


class SyncPlan(Record):
    """Sync ``source_revision`` of ``source`` into each target, wave by wave (a release).

    A plain sync is a release with one target. ``on_failure``: whether a failed target stops the
    waves after it (``stop``) or not; ``release``: the configured release group it came from, if any.
    """

    operation: Literal["sync"] = "sync"
    source: ModelRef
    source_revision: RevisionRef
    targets: tuple[SyncTarget, ...] = Field(min_length=1)
    protected: bool = False
    on_failure: OnFailure = "stop"
    release: str | None = None

    @property
    def target(self) -> SyncTarget:
        """The first target (the only one of a plain sync)."""
        return self.targets[0]

    @property
    def is_release(self) -> bool:
        """More than one target: shown and told per target."""
        return len(self.targets) > 1


class StatusPlan(Record):
    """Take ``model`` from ``from_state`` online or offline."""

    operation: Literal["change_status"] = "change_status"
    model: ModelRef
    from_state: str
    status: Literal["online", "offline"]
    protected: bool = False


Plan = Annotated[SyncPlan | StatusPlan, Field(discriminator="operation")]


class PlanDigest(Record):
    """What an approval covered (``alm_bot.evidence.digest``): ``digest`` hashes the other fields."""

    digest: str
    operation: Literal["sync", "change_status"]
    source_revision_id: str | None = None
    target_model_id: str | None = None
    target_revision_id: str | None = None
    summary_digest: str | None = None
    radar_verdict: str | None = None


class StartIntent(Record):
    """What alm-bot was about to ask Anaplan to start, and when: the evidence for proving ownership later."""

    sent_at: datetime
    target_model_id: str
    source_revision_id: str
    target_revision_id: str


class WindowHold(Record):
    """Why a ``scheduled`` request waits, and — once someone ran it anyway — who overrode the window.

    ``reason`` is the window decision's sentence; ``zone`` the IANA zone its start is shown in (the
    start itself is the request's ``runs_at`` column, which the watcher reads).
    """

    reason: str
    zone: str = "UTC"
    overridden_by_id: str | None = None
    overridden_by_name: str | None = None
    override_reason: str | None = None
    overridden_at: datetime | None = None


FailureCause = Literal[
    "stale_plan",  # the target moved since the plan was made (see `stale`)
    "start_refused",  # Anaplan refused to start the change (see `title`/`message`)
    "check_failed",  # the plan could not be re-checked, after retries
    "start_unconfirmed",  # alm-bot stopped while starting and cannot prove whether it started
    "no_window",  # no change window lets the request run within the horizon (a year)
]


class StalePlanFacts(Record):
    """The target moved from ``planned`` to ``current`` (revision names, or model states) since planning."""

    model_id: str
    model_name: str
    planned: str
    current: str


class VerificationCheck(Record):
    """One check after a sync: ``ok`` None means Anaplan's answer could not tell (``found`` says why)."""

    check: Literal["revision", "applied", "online"]
    ok: bool | None = None  # a default: stored JSON leaves None out
    expected: str
    found: str


class Verification(Record):
    """After Anaplan reported a sync done: is ``model`` at ``revision``, listed as applied, and online?"""

    verified: bool
    model: ModelRef
    revision: RevisionRef
    checks: tuple[VerificationCheck, ...]
    checked_at: datetime


class TaskOutcome(Record):
    """How an Anaplan task (or a request) ended. ``summary`` is set for a finished comparison summary,
    ``report`` (the radar's reading of it) for a plan's finished full comparison report.

    ``verification``: for a successful sync, what alm-bot found when it checked the target after.
    """

    successful: bool
    task_state: str | None = None
    title: str | None = None
    message: str | None = None
    summary: SummaryReport | None = None
    summary_error: str | None = None
    report: ReportReading | None = None
    report_error: str | None = None
    cause: FailureCause | None = None
    stale: StalePlanFacts | None = None
    considered_task_ids: tuple[str, ...] | None = None
    verification: Verification | None = None


class _AboutRequest(Record):
    request_id: str


class ApprovalNeeded(_AboutRequest):
    kind: Literal["approval_needed"] = "approval_needed"


class RequestUpdated(_AboutRequest):
    kind: Literal["request_updated"] = "request_updated"


class RequestDecided(_AboutRequest):
    kind: Literal["request_decided"] = "request_decided"


class RequestExpired(_AboutRequest):
    kind: Literal["request_expired"] = "request_expired"


class RequestCancelled(_AboutRequest):
    kind: Literal["request_cancelled"] = "request_cancelled"


class TaskFinished(_AboutRequest):
    kind: Literal["task_finished"] = "task_finished"


class TargetFinished(_AboutRequest):
    """One target of a release ended (synced, failed, dropped): a line in the card's thread."""

    kind: Literal["target_finished"] = "target_finished"
    position: int


class TaskProgress(_AboutRequest):
    kind: Literal["task_progress"] = "task_progress"
    step: str
    progress: float | None = None
    target: str | None = None  # a release's target (its model name): the line names it


class SyncVerified(_AboutRequest):
    """The target was checked after a successful sync (the facts are in the request's result)."""

    kind: Literal["sync_verified"] = "sync_verified"


class ReleaseNotesReady(_AboutRequest):
    """A request succeeded: its release notes (``alm_bot.evidence.notes``) go in the card's thread."""

    kind: Literal["release_notes"] = "release_notes"


class DecidedOutsideSlack(_AboutRequest):
    """A break-glass decision (CLI): the approvers review it in the card's thread."""

    kind: Literal["decided_outside_slack"] = "decided_outside_slack"


class WindowOverridden(_AboutRequest):
    """Someone ran a scheduled request outside its change window: posted in the approvals channel."""

    kind: Literal["window_overridden"] = "window_overridden"


class RiskOverridden(_AboutRequest):
    """An override approver approved a sync ``block_on_risk`` refuses: posted in the approvals channel."""

    kind: Literal["risk_overridden"] = "risk_overridden"
    by_id: str
    by_name: str
    reason: str


class ApprovalReminder(_AboutRequest):
    """The request still waits after ``remind_after``: a reminder in the card's thread."""

    kind: Literal["approval_reminder"] = "approval_reminder"


class ApprovalEscalated(_AboutRequest):
    """After ``escalate_after`` the ``escalate_to`` people may approve too: told in the thread and by DM."""

    kind: Literal["approval_escalated"] = "approval_escalated"


class CardRefused(_AboutRequest):
    """Slack keeps refusing this request's card: the requester is told (``error``: Slack's code)."""

    kind: Literal["card_refused"] = "card_refused"
    error: str


class NoticesRecovered(Record):
    """Slack accepts notices again after refusing ``count`` of them from ``since`` to ``until``."""

    kind: Literal["notices_recovered"] = "notices_recovered"
    count: int
    since: str  # ISO 8601, to the second
    until: str
    error: str


class ComparisonReady(Record):
    """A comparison someone asked for finished: where to read it, and how it ended."""

    kind: Literal["comparison_ready"] = "comparison_ready"
    task_kind: Literal["comparison_report", "comparison_summary"]
    model_id: str
    task_id: str
    outcome: TaskOutcome
    plan: SyncPlan


NoticePayload = Annotated[
    ApprovalNeeded
    | RequestUpdated
    | RequestDecided
    | RequestExpired
    | RequestCancelled
    | TaskFinished
    | TargetFinished
    | TaskProgress
    | SyncVerified
    | ReleaseNotesReady
    | DecidedOutsideSlack
    | WindowOverridden
    | RiskOverridden
    | ApprovalReminder
    | ApprovalEscalated
    | CardRefused
    | NoticesRecovered
    | ComparisonReady,
    Field(discriminator="kind"),
]
