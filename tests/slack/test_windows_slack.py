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

from alm_bot.store import ApprovalRequest
from tests.world import (
    APPROVALS,
    APPROVER,
    SECOND_APPROVER,
    World,
    button_values,
    card_payload,
    open_world,
    text_of,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    now = datetime.now(UTC)
    window = {
        "models": ["prod"],
        "kind": "deny",
        "start": f"{now - timedelta(hours=1):%Y-%m-%dT%H:%M}",
        "end": f"{now + timedelta(hours=2):%Y-%m-%dT%H:%M}",
        "reason": "Q4 close",
    }
    approval = {"override_approvers": [SECOND_APPROVER]}
    async with open_world(tmp_path, approval=approval, config={"windows": [window]}) as world:
        yield world


async def scheduled(world: World) -> ApprovalRequest:
    await world.ask("sync dev prod")
    await world.settle()
    request = await world.only_request()
    assert "🪟 Change window: deny window 'Q4 close' is open until" in text_of(world.card(request))
    assert "if approved, it runs at" in text_of(world.card(request))
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    waiting = await world.state_becomes(request.id, "scheduled")
    await world.settle()
    return waiting


async def test_an_approval_in_a_deny_window_shows_when_it_runs_and_starts_nothing(world: World) -> None:
    request = await scheduled(world)
    card = world.card(request)
    assert "🗓️ Approved by <@U0APPROVER1>" in text_of(card)
    assert "— runs at " in text_of(card)
    assert "Waiting: deny window 'Q4 close'" in text_of(card)
    assert set(button_values(card)) == {"alm_override"}
    assert world.sync_posts() == 0


async def test_run_now_asks_an_override_approver_for_a_reason_and_posts_the_override(
    world: World,
) -> None:
    request = await scheduled(world)
    before = len(world.ephemerals(APPROVER))
    await world.click("alm_override", card_payload(request.id), user=APPROVER, request=request)
    refusal = await world.fake.wait_for(
        "chat.postEphemeral", count=before + 1, where=lambda c: c.params.get("user") == APPROVER
    )
    assert "override approvers" in text_of(refusal[-1].params)

    await world.click("alm_override", card_payload(request.id), user=SECOND_APPROVER, request=request)
    (opened,) = await world.fake.wait_for("views.open")
    view = opened.params["view"]
    assert view["callback_id"] == "alm_override_reason"
    empty = await world.submit(
        "alm_override_reason",
        {"reason": {"value": " "}},
        user=SECOND_APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert empty.json()["response_action"] == "errors"
    assert (await world.request(request.id)).state == "scheduled"

    done = await world.submit(
        "alm_override_reason",
        {"reason": {"value": "Payroll fix cannot wait."}},
        user=SECOND_APPROVER,
        private_metadata=view["private_metadata"],
    )
    assert done.status_code == 200
    running = await world.state_becomes(request.id, "executing", "succeeded")
    await world.settle()
    assert world.sync_posts() == 1
    posts = [
        c.params
        for c in world.fake.of("chat.postMessage")
        if c.params.get("channel") == APPROVALS and not c.params.get("thread_ts")
    ]
    overrides = [p for p in posts if "Change window overridden" in text_of(p)]
    assert len(overrides) == 1
    assert "<@U0APPROVER2>" in text_of(overrides[0])
    assert "Payroll fix cannot wait." in text_of(overrides[0])
    assert "change window overridden by <@U0APPROVER2>" in text_of(
        world.card(await world.request(running.id))
    )


async def test_alm_windows_lists_the_window_and_says_prod_may_not_change_now(world: World) -> None:
    answer = text_of(await world.ask("windows prod"))
    assert "deny window 'Q4 close' is open until" in answer
    assert "🟢 open until" in answer
    assert "Q4 close" in answer


async def test_alm_override_runs_a_scheduled_request_with_the_typed_reason(world: World) -> None:
    request = await scheduled(world)
    answer = text_of(await world.ask(f"override {request.id} hotfix for payroll", user=SECOND_APPROVER))
    assert "outside its change window" in answer
    ran = await world.request(request.id)
    assert ran.window is not None
    assert ran.window.override_reason == "hotfix for payroll"
    assert world.sync_posts() == 1
