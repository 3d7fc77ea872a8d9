"""Change windows in Slack, end to end: the card while pending and scheduled, Run now, /alm windows.

Prod has a deny window ('Q4 close') open now; Linus is the override approver, Grace an approver
who may not override. Clicks and forms are signed requests to the real app; what people see is
what the fake Slack holds after the watcher delivered the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from slack_stack import (
    APPROVALS,
    APPROVER,
    SECOND_APPROVER,
    SlackStack,
    button_values,
    card_payload,
    open_stack,
    text_of,
)

from alm_bot.store import ApprovalRequest

pytestmark = pytest.mark.anyio


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SlackStack]:
    now = datetime.now(UTC)
    window = {
        "models": ["prod"],
        "kind": "deny",
        "start": f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M}",
        "end": f"{now + timedelta(hours=2):%Y-%m-%dT%H:%M}",
        "reason": "Q4 close",
    }
    approval = {"override_approvers": [SECOND_APPROVER]}
    async with open_stack(tmp_path, approval=approval, config={"windows": [window]}) as stack:
        yield stack


async def scheduled(stack: SlackStack) -> ApprovalRequest:
    await stack.ask("sync dev prod")
    await stack.settle()
    request = await stack.only_request()
    assert "🪟 Change window: deny window 'Q4 close' is open until" in text_of(stack.card(request))
    assert "if approved, it runs at" in text_of(stack.card(request))
    await stack.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    waiting = await stack.state_becomes(request.id, "scheduled")
    await stack.settle()
    return waiting


async def test_an_approval_in_a_deny_window_shows_when_it_runs_and_starts_nothing(stack: SlackStack) -> None:
    request = await scheduled(stack)
    card = stack.card(request)
    assert "🗓️ Approved by <@U0APPROVER1>" in text_of(card)
    assert "— runs at " in text_of(card)
    assert "Waiting: deny window 'Q4 close'" in text_of(card)
    assert set(button_values(card)) == {"alm_override"}
    assert stack.sync_posts() == 0


async def test_run_now_asks_an_override_approver_for_a_reason_and_posts_the_override(
    stack: SlackStack,
) -> None:
    request = await scheduled(stack)
    before = len(stack.ephemerals(APPROVER))
    await stack.click("alm_override", card_payload(request.id), user=APPROVER, request=request)
    refusal = await stack.fake.wait_for(
        "chat.postEphemeral", count=before + 1, where=lambda c: c.params.get("user") == APPROVER
    )
    assert "override approvers" in text_of(refusal[-1].params)

    await stack.click("alm_override", card_payload(request.id), user=SECOND_APPROVER, request=request)
    (opened,) = await stack.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "alm_override_reason"
    empty = await stack.submit(
        "alm_override_reason",
        {"reason": {"value": " "}},
        user=SECOND_APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert empty.json()["response_action"] == "errors"
    assert (await stack.request(request.id)).state == "scheduled"

    done = await stack.submit(
        "alm_override_reason",
        {"reason": {"value": "Payroll fix cannot wait."}},
        user=SECOND_APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert done.status_code == 200
    running = await stack.state_becomes(request.id, "executing", "succeeded")
    await stack.settle()
    assert stack.sync_posts() == 1
    posts = [
        c.params
        for c in stack.fake.of("chat.postMessage")
        if c.params.get("channel") == APPROVALS and not c.params.get("thread_ts")
    ]
    overrides = [p for p in posts if "Change window overridden" in text_of(p)]
    assert len(overrides) == 1
    assert "<@U0APPROVER2>" in text_of(overrides[0])
    assert "Payroll fix cannot wait." in text_of(overrides[0])
    assert "change window overridden by <@U0APPROVER2>" in text_of(
        stack.card(await stack.request(running.id))
    )


async def test_alm_windows_lists_the_window_and_says_prod_may_not_change_now(stack: SlackStack) -> None:
    answer = text_of(await stack.ask("windows prod"))
    assert "deny window 'Q4 close' is open until" in answer
    assert "🟢 open until" in answer
    assert "Q4 close" in answer


async def test_alm_override_runs_a_scheduled_request_with_the_typed_reason(stack: SlackStack) -> None:
    request = await scheduled(stack)
    answer = text_of(await stack.ask(f"override {request.id} hotfix for payroll", user=SECOND_APPROVER))
    assert "outside its change window" in answer
    ran = await stack.request(request.id)
    assert ran.window is not None
    assert ran.window.override_reason == "hotfix for payroll"
    assert stack.sync_posts() == 1
