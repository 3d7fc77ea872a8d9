"""`Operations`: the one object every front end holds, composed of the use cases by concept.

Front ends (Slack, MCP, CLI) parse what a person typed, call the concept that owns it with an
`Actor`, and render what comes back: reads on `Operations` itself (inherited from `Reads`:
``ops.resolve``, ``ops.get_request`` …); changes that need no approval on ``ops.immediate``
(`ImmediateChanges`: ``create_revision``, ``start_comparison``); requests and decisions on
``ops.requests`` (`Requests`: ``request_sync``, ``request_status_change``, ``decide``,
``check_may_decide``, ``cancel``, ``override``, ``check_may_override``); releases on ``ops.releases``
(`ReleaseRequests`: ``request_release``, ``drop_targets``); change windows on ``ops.scheduling``
(`Scheduling`: ``report``, ``note``); approval policies and counted approvals on ``ops.approvals``
(`Approvals`); who approves on ``ops.execution.approvers``. They share one `Lifecycle`; the
watcher gets ``ops.watching`` (`WatchedWork`), a narrow interface of its own. This class wires them;
its one method of its own, `explain_policy`, is a read that needs two of them (the model's
resolution and its policy). No method here repeats a concept's signature.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from alm_bot.anaplan import AnaplanClient
from alm_bot.approval_policy import PolicyExplained
from alm_bot.changes import Changes
from alm_bot.config import Settings
from alm_bot.directory import ModelDirectory
from alm_bot.operations.approvals import Approvals
from alm_bot.operations.execution import Execution
from alm_bot.operations.immediate import ImmediateChanges
from alm_bot.operations.lifecycle import Lifecycle
from alm_bot.operations.outcomes import utc_now
from alm_bot.operations.ownership import Ownership, default_owner
from alm_bot.operations.reads import Reads
from alm_bot.operations.recording import Recording
from alm_bot.operations.recovery import Recovery
from alm_bot.operations.release_requests import ReleaseRequests
from alm_bot.operations.requests import Requests
from alm_bot.operations.watching import WatchedWork
from alm_bot.store import Store

__all__ = ["Operations"]


class Operations(Reads):
    """The use cases, by concept. One instance per process, shared by all front ends."""

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
        self.scheduling = self.execution.scheduling
        self.approvals = Approvals(store, settings, self.lifecycle)
        self.requests = Requests(self, self.lifecycle, self.execution, self.ownership, self.approvals)
        self.releases = ReleaseRequests(self.requests)
        self.immediate = ImmediateChanges(self, clock)
        recording = Recording(self.lifecycle, self.directory, self.execution.releases)
        recovery = Recovery(client, store, self.directory, self.execution)
        self.watching = WatchedWork(
            client, store, settings, self.lifecycle, recording, recovery, self.approvals
        )

    async def explain_policy(self, model: str) -> PolicyExplained:
        """The approval rules for changes into ``model`` (resolved in Anaplan: name, protection)."""
        info = await self.resolve(model)
        policy = self.approvals.policy_for({info.alias or info.name: info.id})
        return PolicyExplained(info.label, info.id, info.protected, policy)
