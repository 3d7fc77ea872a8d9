"""Slack copes with Anaplan's documented minimal shapes: a sync result that is only ``{"successful":
true}``, tasks without ``currentStep`` or ``progress``, a deleted model without an id."""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.sandbox import seed
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.slack.card_ref import card_location
from tests.world import APPROVER, button_values, card_payload, open_world, text_of

pytestmark = pytest.mark.anyio

SPARSE = Fidelity(current_step="never", result_shapes="minimal")


async def test_an_approved_sync_with_a_minimal_result_updates_the_card_and_thread(tmp_path: Path) -> None:
    async with open_world(tmp_path, fidelity=SPARSE, task_duration=5.0) as world:
        await world.ask("sync dev prod")
        await world.settle()
        request = await world.only_request()
        await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
        await world.eventually(lambda: world.has_task(request.id), "the sync to start")
        world.sandbox.advance(5)
        await world.settle()
        done = await world.request(request.id)
        card = text_of(world.card(done))
        posted = card_location(done)
        assert posted is not None
        thread = [c for c in world.fake.of("chat.postMessage") if c.params.get("thread_ts") == posted.ts]

    assert done.state == "succeeded"
    assert "Succeeded: FP&amp;A PROD now has revision Capex module." in card
    assert button_values(world.card(done)) == {}
    assert any("Succeeded" in text_of(c.params) for c in thread)
    assert not any("Progress:" in text_of(c.params) for c in thread)


async def test_the_applied_listing_shows_a_deleted_model_without_an_id(tmp_path: Path) -> None:
    async with open_world(tmp_path, fidelity=SPARSE) as world:
        shown = text_of(await world.ask(f'applied dev "{seed.R1_NAME}"'))

    assert "*a deleted model* · applied" in shown
    assert seed.DELETED_MODEL_ID not in shown
