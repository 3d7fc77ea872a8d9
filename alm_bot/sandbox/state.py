"""The sandbox's in-memory world: users, workspaces, models, revisions, tasks and reports.

Plain mutable dataclasses, no behaviour beyond lookups and a few derived properties; the rules
that change them live in `alm.py` (requests) and `tasks.py` (what happens when a task finishes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

from alm_bot.sandbox.changes import Change

__all__ = [
    "DEPLOYED_STATES",
    "STANDARD_STATES",
    "Application",
    "Model",
    "Report",
    "Revision",
    "Task",
    "TaskFailure",
    "TaskKind",
    "User",
    "Workspace",
    "World",
]

STANDARD_STATES: Final = frozenset({"UNLOCKED", "MAINTENANCE", "ACTIVE"})
DEPLOYED_STATES: Final = frozenset({"PRODUCTION", "PRODUCTION_MAINTENANCE"})

TaskKind = Literal["sync", "comparison", "summary"]


@dataclass
class User:
    email: str
    password: str
    guid: str


@dataclass
class Workspace:
    id: str
    name: str
    size_allowance: int
    members: set[str]
    """Emails of users who see the workspace and its models."""
    admins: set[str]
    """Emails of the Workspace Administrators — the role every ALM call needs."""
    active: bool = True


@dataclass(frozen=True)
class Application:
    """A revision applied to a model: an ``appliedToModels`` entry and that model's appliedOn/By."""

    model_id: str
    applied_on: float
    applied_by: str
    method: str


@dataclass
class Revision:
    id: str
    name: str
    description: str | None
    created_on: float
    created_by: str
    creation_method: str
    changes: tuple[Change, ...]
    applications: list[Application] = field(default_factory=list)
    """In the order the revision reached each model; the first is the model it was created in."""

    def application_to(self, model_id: str) -> Application | None:
        return next((a for a in self.applications if a.model_id == model_id), None)


@dataclass
class Model:
    id: str
    name: str
    workspace_id: str
    active_state: str
    revision_ids: list[str]
    """The model's revision history, oldest first; the last one is its latest revision."""
    created_on: float
    last_modified: float
    memory_usage: int
    last_saved_serial_number: int
    last_modified_by: str
    category_values: list[dict[str, Any]] = field(default_factory=list)
    pending_changes: list[Change] = field(default_factory=list)
    """Structural changes since the latest revision; a new revision takes them."""
    fail_next_sync: bool = False
    """Set through the control API: the next sync into this model fails as oversized."""
    skip_next_sync: bool = False
    """Set through the control API: the next sync into this model reports success but changes nothing."""
    deleted: bool = False

    @property
    def latest_revision_id(self) -> str | None:
        return self.revision_ids[-1] if self.revision_ids else None

    @property
    def is_standard(self) -> bool:
        return self.active_state in STANDARD_STATES

    @property
    def is_archived(self) -> bool:
        return self.active_state == "ARCHIVED"


@dataclass(frozen=True)
class TaskFailure:
    """Why a task completed with ``successful: false``, in Anaplan's words."""

    title: str
    message: str
    subtitle: str | None = None


@dataclass
class Task:
    id: str
    kind: TaskKind
    model_id: str
    """The target model: the one in the task's URL."""
    source_model_id: str
    source_revision_id: str
    target_revision_id: str
    created_at: float
    duration: float
    seq: int
    """Creation order, to sort tasks created within the same instant."""
    user_guid: str
    """Who started it: the ``appliedBy`` of a successful sync."""
    forced_failure: TaskFailure | None = None
    leaves_target: bool = False
    """A fault: the task completes successfully without applying the revision (see skip-next-sync)."""
    failure: TaskFailure | None = None
    finished: bool = False
    """True once the task's effects were applied (exactly once)."""

    @property
    def finishes_at(self) -> float:
        return self.created_at + self.duration


@dataclass
class Report:
    """A generated comparison or summary report, downloadable until retention runs out."""

    kind: TaskKind
    model_id: str
    source_model_id: str
    target_revision_id: str
    source_revision_id: str
    generated_at: float
    revision_ids: tuple[str, ...]
    """The source revisions the report covers: after the target revision, up to the source one."""


ReportKey = tuple[str, str, str, str]
"""(kind, target model id, target revision id, source revision id)."""


@dataclass
class World:
    users: dict[str, User]
    """By email, lowercased."""
    workspaces: dict[str, Workspace]
    models: dict[str, Model]
    revisions: dict[str, Revision]
    tasks: dict[str, Task] = field(default_factory=dict)
    unfinished: dict[str, Task] = field(default_factory=dict)
    """Tasks whose effects are not yet applied, in creation order."""
    sync_tasks: dict[str, list[Task]] = field(default_factory=dict)
    """Sync tasks by target model, oldest first, so listing them does not scan every task."""
    reports: dict[ReportKey, Report] = field(default_factory=dict)
    task_seq: int = 0
    structural_change_count: int = 0
    last_pruned: float = 0.0

    def user_by_email(self, email: str) -> User | None:
        return self.users.get(email.lower())

    def live_model(self, model_id: str) -> Model | None:
        model = self.models.get(model_id)
        return None if model is None or model.deleted else model

    def is_workspace_admin(self, user: User, model: Model) -> bool:
        return user.email in self.workspaces[model.workspace_id].admins

    def can_see(self, user: User, workspace: Workspace) -> bool:
        return user.email in workspace.members
