"""Release tools: ship one source revision into several targets with one approval, and drop blocked ones.

Like a sync into a protected model, a release is never started here without a person's approval in
Slack; the tool answers ``awaiting_approval`` (or ``blocked``, when preflight found targets that
cannot take the sync — nobody is asked until they are dropped).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.params import RequestId, SourceRevision
from alm_bot.mcp.release_render import release_outcome
from alm_bot.mcp.release_schemas import ReleaseOutcome
from alm_bot.mcp.toolspec import CHANGES_ANAPLAN, ToolSpec

__all__ = ["release_tools"]

_ModelNames = Annotated[
    list[Annotated[str, Field(min_length=1, max_length=200)]],
    Field(max_length=50, description="Target models (alias, id or name): one wave."),
]


def release_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def alm_request_release(
        source: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="The source model (alias, id or name), or with no targets a configured "
                "release group.",
            ),
        ],
        targets: _ModelNames | None = None,
        revision: SourceRevision = None,
    ) -> ReleaseOutcome:
        """Ship one revision of a source model into several target models with ONE approval (a release).

        Targets named here form one wave, synced in parallel; a configured group (source = its name,
        no targets) has waves run in order. Every target is checked first (preflight). A failing one
        makes the status "blocked": nothing changed, nobody is asked; the result says which and why —
        call alm_drop_release_targets, or alm_cancel_request. Protected targets: status
        "awaiting_approval", a person approves in Slack (you cannot). Follow it with alm_get_request.
        """
        with tool_errors({"source": "source", "targets": "targets", "revision": "revision"}):
            from alm_bot.operations.release_requests import release_spec

            ops = await deps.ops()
            spec = release_spec(ops.settings, source, targets or (), revision or None)
            outcome = await ops.releases.request_release(spec, actor=deps.actor())
            runs = await ops.get_runs(outcome.request.id)
        return release_outcome(outcome, runs)

    async def alm_drop_release_targets(
        request_id: RequestId,
        targets: Annotated[
            list[Annotated[str, Field(min_length=1, max_length=200)]] | None,
            Field(
                max_length=50,
                description="Targets to drop (alias, id or name); omit to drop the blocked ones.",
            ),
        ] = None,
    ) -> ReleaseOutcome:
        """Drop targets of your release that preflight blocked (status "blocked"); the rest goes on
        (awaits approval in Slack, or starts). Dropping every target cancels it.
        """
        with tool_errors():
            ops = await deps.ops()
            runs = await ops.get_runs(request_id)
            dropped = targets or [
                r.target_model_id for r in runs if r.state == "waiting" and r.blocked_reason
            ]
            outcome = await ops.releases.drop_targets(request_id, dropped, actor=deps.actor())
            runs = await ops.get_runs(outcome.request.id)
        return release_outcome(outcome, runs)

    return [
        ToolSpec(
            alm_request_release, "Release one revision into several models (needs approval)", CHANGES_ANAPLAN
        ),
        # Open world: once nothing is blocked an unprotected release starts syncing.
        ToolSpec(alm_drop_release_targets, "Drop blocked targets of your release", CHANGES_ANAPLAN),
    ]
