"""Tools over alm-bot's own records of change requests: read, list, cancel. None reaches Anaplan.

Deciding a request is deliberately absent: approvals happen in Slack, by a person.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from alm_bot.mcp.boundary import tool_errors
from alm_bot.mcp.deps import ToolDeps
from alm_bot.mcp.params import RequestId
from alm_bot.mcp.render import request_out
from alm_bot.mcp.schemas import RequestList, RequestOut
from alm_bot.mcp.toolspec import CHANGES_REQUEST, READS_REQUESTS, ToolSpec
from alm_bot.request_states import RequestState

__all__ = ["request_tools"]


def request_tools(deps: ToolDeps) -> list[ToolSpec]:
    async def alm_get_request(request_id: RequestId) -> RequestOut:
        """Get a change request (a sync or an online/offline change) and where it stands.

        Use it to follow a request that alm_sync_models, alm_change_model_status or alm_request_release
        returned: whether it still awaits approval (approvals counted of required, stage by stage, who
        can still approve), who approved or rejected it (and why), the Anaplan task, the result, the
        link to its Slack approval card, and for a release each target (targets).
        """
        with tool_errors():
            ops = await deps.ops()
            request = await ops.get_request(request_id)
            progress = await ops.approvals.progress(request) if request.plan.protected else None
            runs = await ops.get_runs(request.id) if request.operation == "sync" else []
        return request_out(request, progress, runs)

    async def alm_list_requests(
        states: Annotated[
            list[RequestState] | None,
            Field(
                max_length=10, description="Only requests in these states, e.g. ['pending']; omit for all."
            ),
        ] = None,
        mine: Annotated[bool, Field(description="Only requests made by the identity you act as.")] = False,
        limit: Annotated[int, Field(ge=1, le=200, description="At most this many, newest first.")] = 20,
    ) -> RequestList:
        """List recent change requests, newest first, optionally only pending ones or only your own.

        Use it to find a request id, or to see what awaits approval.
        """
        with tool_errors():
            requests = await (await deps.ops()).list_requests(
                states=states or None, requester_id=deps.actor().id if mine else None, limit=limit
            )
        return RequestList(requests=[request_out(r) for r in requests])

    async def alm_cancel_request(request_id: RequestId) -> RequestOut:
        """Withdraw a change request that still awaits approval, or one approved and scheduled for its
        change window. Only its requester may cancel it.

        Nothing was changed by a pending or scheduled request, and nothing will be after it is
        cancelled; the Slack approval card is updated to say so. Requests rejected, expired, running or
        done cannot be cancelled.
        Cancelling a request again is harmless: it returns the request, state cancelled.
        """
        with tool_errors():
            ops = await deps.ops()
            request = await ops.get_request(request_id)
            # A repeat (say, a retry after a lost answer) succeeds: the request is already where the
            # caller wanted it, and anyone may read it. This keeps idempotentHint true.
            if request.state != "cancelled":
                request = await ops.requests.cancel(request_id, actor=deps.actor())
        return request_out(request)

    return [
        ToolSpec(alm_get_request, "Get a change request", READS_REQUESTS),
        ToolSpec(alm_list_requests, "List change requests", READS_REQUESTS),
        ToolSpec(alm_cancel_request, "Cancel your change request", CHANGES_REQUEST),
    ]
