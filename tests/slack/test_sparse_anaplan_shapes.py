"""Slack copes with Anaplan's documented minimal shapes: a sync result that is only ``{"successful":
true}``, tasks without ``currentStep`` or ``progress``, a deleted model without an id."""

from __future__ import annotations

from pathlib import Path

import pytest
from slack_stack import APPROVER, button_values, card_payload, open_stack, text_of

from alm_bot.sandbox import seed
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.slack.card_ref import card_location

pytestmark = pytest.mark.anyio

SPARSE = Fidelity(current_step="never", result_shapes="minimal")


async def test_an_approved_sync_with_a_minimal_result_updates_the_card_and_thread(tmp_path: Path) -> None:
    async with open_stack(tmp_path, fidelity=SPARSE, task_duration=5.0) as stack:
        await stack.ask("sync dev prod")
        await stack.settle()
        request = await stack.only_request()
        await stack.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
        await stack.eventually(lambda: stack.has_task(request.id), "the sync to start")
        stack.sandbox.advance(5)
        await stack.settle()
        done = await stack.request(request.id)
        card = text_of(stack.card(done))
        posted = card_location(done)
        assert posted is not None
        thread = [c for c in stack.fake.of("chat.postMessage") if c.params.get("thread_ts") == posted.ts]

    assert done.state == "succeeded"
    assert "Succeeded: FP&amp;A PROD now has revision Capex module." in card
    assert button_values(stack.card(done)) == {}
    assert any("Succeeded" in text_of(c.params) for c in thread)
    assert not any("Progress:" in text_of(c.params) for c in thread)


async def test_the_applied_listing_shows_a_deleted_model_without_an_id(tmp_path: Path) -> None:
    async with open_stack(tmp_path, fidelity=SPARSE) as stack:
        shown = text_of(await stack.ask(f'applied dev "{seed.R1_NAME}"'))

    assert "*a deleted model* · applied" in shown
    assert seed.DELETED_MODEL_ID not in shown
