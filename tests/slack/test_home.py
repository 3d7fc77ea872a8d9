"""The App Home tab: what waits for your decision, your open requests, recent syncs."""

from __future__ import annotations

import pytest

from tests.world import APPROVER, OUTSIDER, REQUESTER, World, card_payload, text_of
from tools.fake_slack import event_body

pytestmark = pytest.mark.anyio


async def open_home(world: World, user: str) -> str:
    before = len(world.fake.of("views.publish"))
    reply = await world.send(
        event_body({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0"})
    )
    assert reply.status_code == 200
    calls = await world.fake.wait_for("views.publish", count=before + 1)
    published = calls[-1].params
    assert published["user_id"] == user
    assert published["view"]["type"] == "home"
    return text_of(published["view"])


async def test_an_approver_sees_what_waits_for_their_decision(world: World) -> None:
    await world.ask("sync dev prod")
    await world.settle()
    request = await world.only_request()
    home = await open_home(world, APPROVER)
    waiting = home.split("*Waiting for your decision*")[1].split("*Your open requests*")[0]
    assert f"*{request.id}* · Sync FP&amp;A DEV → FP&amp;A PROD" in waiting
    assert "card in <#C0APPROVALS>" in waiting


async def test_the_requester_sees_their_open_request_and_not_a_decision_to_make(world: World) -> None:
    await world.ask("sync dev prod")
    request = await world.only_request()
    home = await open_home(world, REQUESTER)
    assert "Waiting for your decision" not in home
    assert f"*{request.id}*" in home.split("*Your open requests*")[1].split("*Recent syncs*")[0]


async def test_someone_who_is_not_an_approver_is_not_offered_decisions(world: World) -> None:
    await world.ask("sync dev prod")
    home = await open_home(world, OUTSIDER)
    assert "Waiting for your decision" not in home
    assert "You have no open requests" in home


async def test_a_finished_sync_shows_under_recent_syncs_with_its_outcome(world: World) -> None:
    await world.ask("sync dev prod")
    request = await world.only_request()
    await world.click("alm_approve", card_payload(request.id), user=APPROVER)
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    await world.settle()
    recent = (await open_home(world, OUTSIDER)).split("*Recent syncs*")[1]
    assert f"*{request.id}*" in recent
    assert "Succeeded" in recent
