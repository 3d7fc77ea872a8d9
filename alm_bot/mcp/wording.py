"""The core's errors in an assistant's words: the next step names the MCP tool to call.

The core states facts (`alm_bot.errors`); an assistant cannot type a slash command, so every next
step here is a tool call with its arguments, and people are named by their ids.
"""

from __future__ import annotations

from typing import Final

from alm_bot.errors import Action, AlmBotError, PlainWording

__all__ = ["MCP_WORDING", "in_mcp_words"]

MCP_WORDING: Final = PlainWording(
    {
        Action.LIST_MODELS: "Call alm_list_models to see the models, their aliases and ids.",
        Action.LIST_REQUESTS: "Call alm_list_requests to see recent requests.",
        Action.LIST_REVISIONS: "Call alm_get_revisions(model={subject!r}) to see its revisions.",
        Action.CREATE_REVISION: "Create one first with alm_create_revision(model={subject!r}, name=…).",
        Action.CANCEL_REQUEST: "To withdraw it, call alm_cancel_request(request_id={subject!r}).",
        Action.CONFIRM_DATA_LOSS: "An approver confirms the data loss when approving {subject} in Slack.",
        Action.OVERRIDE_RISK: (
            "An override approver may approve {subject} anyway, with a reason, in Slack or the CLI."
        ),
    }
)
"""Plain facts, approvers by id, next steps as tool calls."""


def in_mcp_words(error: AlmBotError) -> str:
    return error.worded(MCP_WORDING)
