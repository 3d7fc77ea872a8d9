"""MCP prompts: guided conversations an assistant can offer its user."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from pydantic import Field

__all__ = ["register_prompts", "release_walkthrough_text"]


def release_walkthrough_text(source: str, target: str) -> str:
    """The walkthrough: syncable revisions → comparison summary → sync request (and what approval means)."""
    pair = f"source_model={source!r}, target_model={target!r}"
    return f"""Walk me through releasing {source} into {target} with alm-bot, one step at a time. \
Show me what you find at each step and ask me before any change.

1. What can be released: call alm_get_syncable_revisions({pair}). Show the revisions (name, author, \
date), newest first. If the list is empty, explain that {target} already has everything or that the \
models do not share a history; if new work is not tagged yet, offer alm_create_revision on {source}.
2. What would change: call alm_create_comparison_summary({pair}, wait_for_completion=true). Summarise \
the totals and the categories with changes (modules, line items, lists, …). If it is still running, \
follow it with alm_get_comparison_summary_task and alm_get_comparison_summary.
3. Ask me to confirm the release. Only after I say yes, call alm_sync_models({pair}).
   - If the status is "awaiting_approval": {target} is protected, so nothing has changed yet. A second \
person (the approvers listed) must approve the request in Slack before it expires; you cannot approve \
it, and I cannot approve my own request. Give me the request id and the card link if there is one.
   - If the status is "started": the sync is running in Anaplan; follow it with alm_get_sync_task and \
tell me when it finishes.
4. Afterwards, alm_get_request with the request id tells where it stands (pending, approved, rejected \
with the reason, expired, succeeded or failed)."""


def register_prompts(server: MCPServer) -> None:
    @server.prompt(
        name="release_walkthrough",
        title="Release walkthrough",
        description="Step by step: what can be released, what it changes, the sync request and its approval.",
    )
    def release_walkthrough(
        source: Annotated[str, Field(description="The model to release from (alias, id or name), e.g. dev.")],
        target: Annotated[
            str, Field(description="The model to release into (alias, id or name), e.g. prod.")
        ],
    ) -> str:
        return release_walkthrough_text(source, target)
