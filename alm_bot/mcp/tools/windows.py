"""Change-window tools: read the windows (from the configuration), and override one for a request.

``alm_get_change_windows`` reaches neither Anaplan nor the database. ``alm_override_change_window``
runs a scheduled request now; the core allows it only to an ``override_approvers`` member, with a
reason, audits it and posts it in the approvals channel (an assistant acting for that person).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.params import RequestId
from alm_bot.mcp.render import request_out
from alm_bot.mcp.schemas import RequestOut
from alm_bot.mcp.toolspec import CHANGES_ANAPLAN, READS_REQUESTS, ToolSpec

__all__ = ["ChangeWindows", "WindowStateOut", "window_tools"]


class WindowStateOut(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = Field(description="The window's reason, or 'window N' (its place in the file).")
    kind: str = Field(description="deny: no changes while open; allow: its models change only while open.")
    models: list[str] = Field(description="Model aliases it covers, or '*' for every model.")
    schedule: str = Field(description="When it opens: cron and duration, or start to end, with its zone.")
    open_until: datetime | None = Field(description="If open now: when this opening closes (UTC).")
    next_opens: datetime | None = Field(description="The next opening after now (UTC), if any.")


class ChangeWindows(BaseModel):
    model_config = ConfigDict(frozen=True)

    model: str | None = Field(description="The model asked about, if any.")
    may_change_now: bool | None = Field(description="For a model: may a change start now?")
    reason: str | None = Field(description="For a model: the window that decides, in one sentence.")
    runs_at: datetime | None = Field(description="For a model that may not change now: from when it may.")
    windows: list[WindowStateOut] = Field(description="The windows (that apply to the model).")


def window_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def alm_get_change_windows(
        model: Annotated[
            str | None,
            Field(
                description="A model: its alias, id or name; omit to list every change window. Windows "
                "name models by alias, so a name or an unconfigured id matches only windows for '*'."
            ),
        ] = None,
    ) -> ChangeWindows:
        """Show the change windows (when models may change): open now, next opening, and for a model
        (alias, id or name) whether a change may start now. A change approved while its window is
        closed waits in state scheduled until runs_at."""
        with tool_errors():
            report = (await deps.ops()).scheduling.report(model)
        decision = report.decision
        states = [
            WindowStateOut(
                name=s.window.label,
                kind=s.window.kind,
                models=sorted(s.window.models),
                schedule=s.window.schedule,
                open_until=s.current.closes if s.current else None,
                next_opens=s.next.opens if s.next else None,
            )
            for s in report.states
        ]
        return ChangeWindows(
            model=report.model,
            may_change_now=decision.may_run if decision else None,
            reason=decision.reason if decision else None,
            runs_at=decision.runs_at if decision and not decision.may_run else None,
            windows=states,
        )

    async def alm_override_change_window(
        request_id: RequestId,
        reason: Annotated[str, Field(min_length=1, max_length=1000, description="Why it cannot wait.")],
    ) -> RequestOut:
        """Run a scheduled request now, outside its change window. Only the configured override
        approvers may (the identity you act as must be one); the override is audited and posted in the
        approvals channel, and the plan is re-checked before the change starts."""
        with tool_errors():
            request = await (await deps.ops()).requests.override(
                request_id, actor=deps.actor(), reason=reason
            )
        return request_out(request)

    return [
        ToolSpec(alm_get_change_windows, "Show change windows", READS_REQUESTS),
        ToolSpec(alm_override_change_window, "Run a scheduled change now (override)", CHANGES_ANAPLAN),
    ]
