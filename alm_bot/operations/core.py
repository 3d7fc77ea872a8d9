"""`Operations`: the one object every front end calls, composed of the use cases by concept.

Front ends (Slack, MCP, CLI) parse what a person typed, call one method here with an `Actor`, and
render what comes back. Reads are inherited from `Reads`; changes are delegated to the part that owns
them (`ImmediateChanges`, `Requests`, `Execution`), which share one `Lifecycle`; the watcher gets
`watching` (`WatchedWork`), a narrow interface of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from typing import Literal

from alm_bot.actor import Actor
from alm_bot.anaplan import AnaplanClient, Revision
from alm_bot.approval_policy import PolicyExplained
from alm_bot.changes import Changes
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory
from alm_bot.operations.approvals import Approvals
from alm_bot.operations.execution import Execution
from alm_bot.operations.immediate import ImmediateChanges
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import ComparisonStarted, RequestOutcome, utc_now
from alm_bot.operations.ownership import Ownership, default_owner
from alm_bot.operations.reads import Reads
from alm_bot.operations.recording import Recording
from alm_bot.operations.recovery import Recovery
from alm_bot.operations.requests import Requests
from alm_bot.operations.scheduling import WindowReport, check_may_override
from alm_bot.operations.watching import WatchedWork
from alm_bot.store import ApprovalRequest, Store
from alm_bot.windows import WindowDecision

__all__ = ["Operations"]


class Operations(Reads):
    """The use cases. One instance per process, shared by all front ends."""

    def __init__(
        self,
        *,
        client: AnaplanClient,
        store: Store,
        settings: Settings,
        directory: ModelDirectory | None = None,
        clock: Callable[[], datetime] = utc_now,
        changes: Changes | None = None,
        owner: str | None = None,
    ) -> None:
        super().__init__(client, store, directory or ModelDirectory(client, settings))
        self.settings = settings
        self.clock = clock
        self.changes = changes or Changes()
        self.lifecycle = Lifecycle(store, clock, self.changes)
        self.ownership = Ownership(store, clock, owner or default_owner())
        self.execution = Execution(client, self.directory, self.lifecycle, self.ownership, settings)
        self.approvals = Approvals(store, settings, self.lifecycle)
        self.requests = Requests(self, self.lifecycle, self.execution, self.ownership, self.approvals)
        self.immediate = ImmediateChanges(self, clock)
        recording = Recording(self.lifecycle, self.directory)
        recovery = Recovery(client, store, self.directory, self.execution)
        self.watching = WatchedWork(
            client, store, settings, self.lifecycle, recording, recovery, self.approvals
        )

    @property
    def approvers(self) -> list[str]:
        return self.execution.approvers

    async def create_revision(self, model: str, name: str, description: str, *, actor: Actor) -> Revision:
        return await self.immediate.create_revision(model, name, description, actor=actor)

    async def start_comparison(
        self,
        source: str,
        target: str,
        revision: str | None = None,
        *,
        actor: Actor,
        full: bool = False,
        notify: str | None = None,
    ) -> ComparisonStarted:
        return await self.immediate.start_comparison(
            source, target, revision, actor=actor, full=full, notify=notify
        )

    async def request_sync(
        self, source: str, target: str, revision: str | None = None, *, actor: Actor
    ) -> RequestOutcome:
        return await self.requests.request_sync(source, target, revision, actor=actor)

    async def request_status_change(
        self, model: str, status: Literal["online", "offline"], *, actor: Actor
    ) -> RequestOutcome:
        return await self.requests.request_status_change(model, status, actor=actor)

    async def decide(
        self,
        request_id: str,
        *,
        actor: Actor,
        approve: bool,
        reason: str | None = None,
        actor_groups: Collection[str] = (),
    ) -> ApprovalRequest:
        return await self.requests.decide(
            request_id, actor=actor, approve=approve, reason=reason, actor_groups=actor_groups
        )

    async def check_may_decide(
        self, request_id: str, *, actor: Actor, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        return await self.requests.check_may_decide(request_id, actor=actor, actor_groups=actor_groups)

    async def explain_policy(self, model: str) -> PolicyExplained:
        """The approval rules for changes into ``model`` (resolved in Anaplan: name, protection)."""
        info = await self.resolve(model)
        policy = self.approvals.policy_for({info.alias or info.name: info.id})
        return PolicyExplained(info.label, info.id, info.protected, policy)

    async def cancel(self, request_id: str, *, actor: Actor) -> ApprovalRequest:
        return await self.requests.cancel(request_id, actor=actor)

    async def override(
        self, request_id: str, *, actor: Actor, reason: str, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        return await self.requests.override(request_id, actor=actor, reason=reason, actor_groups=actor_groups)

    async def check_may_override(
        self, request_id: str, *, actor: Actor, actor_groups: Collection[str] = ()
    ) -> ApprovalRequest:
        """Raise the refusal `override` would give this actor now, the reason aside (for its form)."""
        request = await self.get_request(request_id)
        check_may_override(request, actor, actor_groups, self.settings, None)
        return request

    def windows(self, model: str | None = None) -> WindowReport:
        """The change windows (of ``model``, an alias or id): open now, next opening, the decision."""
        return self.execution.scheduling.report(model)

    def window_note(self, request: ApprovalRequest) -> WindowDecision | None:
        """The change-window decision to show on a request's card now; None when no window applies."""
        return self.execution.scheduling.note(request)
