"""The shapes MCP tools return: pydantic models written for an AI assistant to read.

These are the MCP layer's own types, not the core's: each field says what it means, so the output
schema a client lists is self-explanatory, and the core can change its internals without changing
what assistants see. `render` converts the core's objects into these.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from alm_bot.mcp.release_schemas import TargetOut
from alm_bot.mcp.risk_schemas import RiskOut
from alm_bot.request_states import RequestState

__all__ = [
    "AliasOut",
    "ApprovalStageOut",
    "ApprovalsOut",
    "ChangeOutcome",
    "ComparisonOutcome",
    "ComparisonReport",
    "LatestRevision",
    "ModelList",
    "ModelOut",
    "ModelRef",
    "ModelRevisionList",
    "ModelRevisionOut",
    "Person",
    "Registry",
    "RequestList",
    "RequestOut",
    "RequestResult",
    "RevisionList",
    "RevisionOut",
    "RevisionRef",
    "SummaryCountsOut",
    "SummaryOut",
    "TaskList",
    "TaskOut",
    "TaskResultOut",
    "TaskSummaryOut",
    "WindowOut",
]

ChangeStatus = Literal["awaiting_approval", "scheduled", "started", "succeeded", "failed"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- models ---------------------------------------------------------------------------------------


class ModelRef(_Out):
    """A model, named the three ways it can be referred to."""

    id: str = Field(description="Anaplan model id (32 hexadecimal characters).")
    name: str = Field(description="The model's name in Anaplan.")
    alias: str | None = Field(default=None, description="The alias configured in alm-bot, if any.")


class ModelOut(ModelRef):
    """A model as alm-bot sees it: Anaplan's facts plus the alias and protection configured here."""

    workspace_id: str = Field(description="Id of the workspace the model lives in.")
    workspace_name: str = Field(description="Name of the workspace the model lives in.")
    active_state: str = Field(
        description="Anaplan's activeState: UNLOCKED, MAINTENANCE, PRODUCTION, PRODUCTION_MAINTENANCE, "
        "LOCKED or ARCHIVED."
    )
    mode: str = Field(description="standard (development), deployed (production), locked or archived.")
    online: bool = Field(description="False while the model is offline (maintenance), locked or archived.")
    protected: bool = Field(
        description="True when syncs into this model and online/offline changes need a second person's "
        "approval in Slack (configured protected, or deployed)."
    )


class ModelList(_Out):
    models: list[ModelOut] = Field(description="The models, sorted by workspace and name.")


# --- revisions ------------------------------------------------------------------------------------


class RevisionRef(_Out):
    id: str = Field(description="Revision id (32 hexadecimal characters).")
    name: str = Field(description="Revision tag name.")


class RevisionOut(RevisionRef):
    """A revision tag: a named snapshot of a model's structure that other models can sync to."""

    description: str | None = Field(default=None, description="The revision's description, if any.")
    created_on: datetime | None = Field(default=None, description="When the revision was created (UTC).")
    created_by: str = Field(default="", description="Who created the revision.")
    creation_method: str = Field(default="", description="How it was created (e.g. Create revision, Sync).")
    applied_on: datetime | None = Field(
        default=None, description="When it was applied to this model, if synced."
    )
    applied_by: str | None = Field(default=None, description="Who applied it to this model, if synced.")


class RevisionList(_Out):
    model: ModelRef = Field(
        description="The model whose revisions these are (the target, for syncable ones)."
    )
    revisions: list[RevisionOut]


class LatestRevision(_Out):
    model: ModelRef
    revision: RevisionOut | None = Field(description="The newest revision, or null if the model has none.")


class ModelRevisionOut(_Out):
    """A model that has a given revision applied."""

    model_id: str | None = Field(
        default=None, description="Null for a deleted model, as Anaplan leaves it out."
    )
    model_name: str = ""
    workspace_id: str | None = None
    applied_by: str = ""
    applied_on: datetime | None = None
    applied_method: str = ""
    model_deleted: bool = Field(default=False, description="True when that model has since been deleted.")


class ModelRevisionList(_Out):
    model: ModelRef
    revision: str = Field(description="The revision as asked for (id or name).")
    models: list[ModelRevisionOut] = Field(description="Every model the revision was applied to.")


# --- tasks ----------------------------------------------------------------------------------------


class TaskResultOut(_Out):
    successful: bool
    error_title: str | None = Field(default=None, description="Anaplan's error title when it failed.")
    error_message: str | None = Field(default=None, description="Anaplan's explanation when it failed.")
    source_revision_id: str | None = None
    target_revision_id: str | None = None


class TaskSummaryOut(_Out):
    task_id: str
    task_state: str = Field(description="NOT_STARTED, IN_PROGRESS, COMPLETE, CANCELLING or CANCELLED.")
    creation_time: datetime


class TaskOut(TaskSummaryOut):
    """An Anaplan task (sync or comparison) and, once it finished, its result."""

    model: ModelRef = Field(description="The model the task runs on (the target model).")
    current_step: str | None = Field(default=None, description="What the task is doing now, if Anaplan says.")
    progress: float | None = Field(default=None, description="Fraction done, 0 to 1, if Anaplan says.")
    finished: bool = Field(description="True once Anaplan will not change the task any more.")
    result: TaskResultOut | None = Field(default=None, description="Present once the task completed.")


class TaskList(_Out):
    model: ModelRef
    tasks: list[TaskSummaryOut]


# --- comparisons ----------------------------------------------------------------------------------


class SummaryCountsOut(_Out):
    created: int = 0
    modified: int = 0
    deleted: int = 0


class SummaryOut(_Out):
    """What a sync would change, counted by category (modules, line items, lists, …)."""

    source_revision_id: str
    target_revision_id: str
    totals: SummaryCountsOut
    differences: dict[str, SummaryCountsOut] = Field(description="Counts per category of model object.")


class ComparisonReport(_Out):
    """The full comparison report of a finished comparison-report task, as text."""

    model: ModelRef
    task_id: str
    size_bytes: int = Field(description="Size of the whole report in bytes.")
    text: str = Field(description="The report (tab-separated sections), possibly cut short; see truncated.")
    truncated: bool = Field(description="True when text holds only the beginning of the report.")


class ComparisonOutcome(_Out):
    """A comparison that Anaplan started (and, when waited for, its result)."""

    kind: Literal["comparison_report", "comparison_summary"]
    status: Literal["running", "succeeded", "failed"] = Field(
        description="running: still going (check later); succeeded/failed: the task finished."
    )
    task_id: str
    source_model: ModelRef
    target_model: ModelRef = Field(
        description="The comparison task lives on this model: use it to check later."
    )
    source_revision: RevisionRef
    target_revision_id: str
    task: TaskOut | None = Field(default=None, description="The task as last seen, when the call waited.")
    summary: SummaryOut | None = Field(default=None, description="The change counts, for a finished summary.")
    next_step: str = Field(description="What to call next.")


# --- requests -------------------------------------------------------------------------------------


class Person(_Out):
    id: str
    name: str


class RequestResult(_Out):
    successful: bool
    title: str | None = None
    message: str | None = None


class WindowOut(_Out):
    """Why a scheduled request waits for its change window, and who overrode the window, if anyone."""

    reason: str = Field(description="The change window that holds it, e.g. deny window 'Q4 close' is open.")
    zone: str = Field(description="The IANA time zone of that window.")
    overridden_by: Person | None = Field(default=None, description="Who ran it outside its window.")
    override_reason: str | None = Field(default=None, description="Why it could not wait.")


class ApprovalStageOut(_Out):
    """One stage of the approval policy: ``count`` distinct people from ``approvers``."""

    name: str | None = Field(default=None, description="The stage's name, if configured.")
    count: int = Field(description="Approvals this stage needs.")
    approvers: list[str] = Field(
        description="Who may approve in it: Slack user ids (U…) and user-group ids (S…)."
    )
    approved_by: list[Person] = Field(description="Who has approved in this stage (each person counts once).")
    met: bool


class ApprovalsOut(_Out):
    """The approval policy a request is decided under, and how far it has got."""

    required: int = Field(description="Distinct approvals needed in all (the requester never counts).")
    approved: int = Field(description="Approvals counted so far.")
    met: bool = Field(description="True once every stage has its approvals (the change then starts).")
    stages: list[ApprovalStageOut] = Field(description="Stage by stage; one stage when none is configured.")
    policy_source: str = Field(description="Where the rules come from: [approval] or [models.<alias>].")
    strictest_target: str | None = Field(
        default=None, description="For several targets: the target whose (strictest) policy applies."
    )
    still_possible: list[str] = Field(description="Who could still add an approval that counts (ids).")
    reminded_at: datetime | None = Field(default=None, description="When the one reminder was sent.")
    escalated_at: datetime | None = Field(default=None, description="When the escalation added approvers.")
    escalated_to: list[str] = Field(default_factory=list, description="Who the escalation adds (ids).")


class RequestOut(_Out):
    """A change request (sync or online/offline change) and where it stands."""

    id: str = Field(description="Request id, e.g. R7K3QX2.")
    operation: Literal["sync", "change_status"]
    state: RequestState
    state_explained: str = Field(description="The state in one sentence.")
    requester: Person
    origin: str = Field(description="Where it was asked: slack, mcp (an assistant) or cli.")
    target_model: ModelRef
    source_model: ModelRef | None = Field(default=None, description="For a sync: the model synced from.")
    source_revision: RevisionOut | None = Field(default=None, description="For a sync: the revision synced.")
    target_revision: RevisionRef | None = Field(
        default=None, description="For a sync: the target's latest revision when the request was planned."
    )
    status: Literal["online", "offline"] | None = Field(
        default=None, description="For a status change: the state asked for."
    )
    from_state: str | None = Field(default=None, description="For a status change: activeState before.")
    protected: bool = Field(description="True when the change needed approval.")
    summary: SummaryOut | None = Field(default=None, description="For a sync: what it changes, once known.")
    summary_error: str | None = Field(default=None, description="Why no change summary could be computed.")
    risk: RiskOut | None = Field(
        default=None,
        description="For a sync: the data-loss radar's verdict, once the summary (and for a protected "
        "target the full comparison report) is read; null while they are computed.",
    )
    created_at: datetime
    expires_at: datetime | None = Field(description="When a pending request expires without a decision.")
    decided_by: Person | None = None
    decided_at: datetime | None = None
    reason: str | None = Field(default=None, description="The rejection reason, if rejected.")
    task_id: str | None = Field(default=None, description="The Anaplan sync task id, once started.")
    result: RequestResult | None = Field(default=None, description="The outcome, once finished.")
    runs_at: datetime | None = Field(
        default=None, description="State scheduled: when its change window lets it start (UTC)."
    )
    window: WindowOut | None = Field(default=None, description="Its change window, once it waited for one.")
    approvals: ApprovalsOut | None = Field(
        default=None, description="For a change that needs approval: the policy's count and stages."
    )
    targets: list[TargetOut] | None = Field(
        default=None, description="For a release (several targets): each target and where it stands."
    )


class RequestList(_Out):
    requests: list[RequestOut] = Field(description="Newest first.")


# --- changes --------------------------------------------------------------------------------------


class ChangeOutcome(_Out):
    """What asking for a sync or an online/offline change produced."""

    status: ChangeStatus = Field(
        description="awaiting_approval: nothing changed yet, a person must approve in Slack; "
        "scheduled: approved, nothing changed yet, it starts when its change window opens (runs_at); "
        "started: the Anaplan task is running; succeeded/failed: it finished."
    )
    request_id: str = Field(
        description="Use with alm_get_request to follow it, alm_cancel_request to withdraw."
    )
    message: str = Field(description="What happened and what happens next, in one or two sentences.")
    target_model: ModelRef
    approvers: list[str] = Field(
        default_factory=list,
        description="Who can approve (Slack user and user-group ids), when awaiting approval.",
    )
    expires_at: datetime | None = Field(
        default=None, description="When an unanswered approval request expires."
    )
    task_id: str | None = Field(default=None, description="The Anaplan task id, once the change started.")
    task: TaskOut | None = Field(default=None, description="The task as last seen, when the call waited.")
    result: RequestResult | None = Field(default=None, description="The outcome, when it finished.")


# --- resources ------------------------------------------------------------------------------------


class AliasOut(_Out):
    alias: str
    id: str
    protected: bool = Field(description="Configured protected: changes always need approval.")


class Registry(_Out):
    """What alm-bot is configured with, and the models Anaplan lists."""

    aliases: list[AliasOut]
    approvers: list[str] = Field(
        description="Slack user and user-group ids who may approve protected changes."
    )
    models: list[ModelOut] = Field(description="Every model the Anaplan user can see (empty if unreachable).")
    models_error: str | None = Field(default=None, description="Why the models could not be listed, if so.")
