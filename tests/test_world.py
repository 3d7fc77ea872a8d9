"""The test world itself (`tests.world`): what other tests build on works as its docstring says."""

from __future__ import annotations

import pytest

from tests.mcp.calls import ok
from tests.world import APPROVER, REQUESTER, RecordingNotifier, World, actor, card_payload, text_of

pytestmark = pytest.mark.anyio


async def test_a_slack_request_approved_in_slack_is_seen_by_the_assistant(world: World) -> None:
    await world.ask("sync dev prod")
    await world.settle()  # the watcher delivers the card
    request = await world.only_request()
    assert "dev" in text_of(world.card(request)).lower()

    reply = await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    assert reply.status_code == 200
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    await world.settle()  # the sandbox's task is done at once: the watcher records it
    assert (await world.request(request.id)).state == "succeeded"
    assert world.sync_posts() == 1

    async with world.mcp() as assistant:
        seen = await ok(assistant, "alm_get_request", {"request_id": request.id})
    assert seen["state"] == "succeeded", seen


async def test_an_unsigned_slack_request_is_refused_in_process(world: World) -> None:
    reply = await world.send("command=%2Falm&text=sync+dev+prod", headers={"content-type": "text/plain"})
    assert reply.status_code == 401
    assert await world.services.store.list_requests() == []


@pytest.mark.world(slack=False, task_duration=30)
async def test_the_core_alone_records_notices_and_waits_on_the_clock(world: World) -> None:
    assert world.fake is None
    assert isinstance(world.notifier, RecordingNotifier)
    outcome = await world.ops.requests.request_sync("dev", "prod", actor=actor(REQUESTER))
    request = outcome.request
    assert request is not None
    await world.ops.requests.decide(request.id, actor=actor(APPROVER), approve=True)
    await world.state_becomes(request.id, "executing")
    await world.settle()
    assert (await world.request(request.id)).state == "executing"  # the task runs 30 sandbox seconds
    world.advance(31)
    await world.settle()
    done = await world.state_becomes(request.id, "succeeded")
    assert "approval_needed" in world.notifier.kinds()
    assert done.anaplan_task_id is not None


async def test_the_world_runs_on_each_database(world_on_each_database: World) -> None:
    await world_on_each_database.ask("offline prod")
    request = await world_on_each_database.only_request()
    assert request.state == "pending"
