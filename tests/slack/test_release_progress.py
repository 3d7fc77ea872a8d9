"""A release's targets sync in parallel through the same Anaplan steps: the card's thread gets each
target's progress line (named), not only the first target's (the dedupe key is per target)."""

from __future__ import annotations

import pytest

from alm_bot.sandbox.defaults import sandbox_defaults
from alm_bot.slack.card_ref import card_location
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import APPROVER, World, card_payload, text_of

pytestmark = pytest.mark.anyio


def _models() -> dict[str, dict[str, object]]:
    models: dict[str, dict[str, object]] = dict(sandbox_defaults()["models"])
    models["prod-1"] = {"id": copy_id(1), "protected": True}
    return models


@pytest.mark.world(task_duration=10, config={"models": _models()})
async def test_each_target_of_a_wave_gets_its_own_progress_line(world: World) -> None:
    add_prod_copies(world.sandbox, 1)
    await world.ask("release dev prod prod-1")
    world.advance(10)  # the comparisons finish
    await world.settle()
    request = await world.only_request()
    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    await world.state_becomes(request.id, "executing")
    await world.settle()
    world.advance(5)  # both syncs are half-way, at the same step
    await world.settle()
    posted = card_location(await world.request(request.id))
    assert posted is not None
    thread = [
        text_of(c.params)
        for c in world.fake.of("chat.postMessage")
        if c.params.get("thread_ts") == posted.ts and text_of(c.params).startswith("🔄")
    ]
    assert any(t.startswith("🔄 FP&amp;A PROD: ") for t in thread), thread
    assert any(t.startswith("🔄 FP&amp;A PROD 1: ") for t in thread), thread
