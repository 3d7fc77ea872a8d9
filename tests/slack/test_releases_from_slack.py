"""``/alm release``: one card for the whole release, a thread line per target, one DM at the end;
a blocked target is shown with its reason, and the requester drops it with a button."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from alm_bot.sandbox import seed
from alm_bot.slack.card_ref import card_location
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import APPROVER, REQUESTER, World, button_values, card_payload, open_world, text_of

pytestmark = pytest.mark.anyio

CONFIG = {"releases": {"fpa": {"source": "dev", "waves": [["test"], ["prod", "prod-1"]]}}}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with open_world(tmp_path, config=CONFIG | {"models": _models()}) as world:
        add_prod_copies(world.sandbox, 1)
        yield world


def _models() -> dict[str, dict[str, object]]:
    from alm_bot.sandbox.defaults import sandbox_defaults

    models: dict[str, dict[str, object]] = dict(sandbox_defaults()["models"])
    models["prod-1"] = {"id": copy_id(1), "protected": True}
    return models


async def test_a_release_group_gets_one_card_per_target_lines_thread_results_and_one_dm(
    world: World,
) -> None:
    answer = await world.ask("release fpa")
    assert "needs approval" in text_of(answer)
    await world.settle()
    request = await world.only_request()
    card = text_of(world.card(request))
    assert "Release FP&A DEV → 3 targets" in card
    assert "wave 1 · *FP&amp;A TEST* `test` · at" in card
    assert "wave 2 · *FP&amp;A PROD* `prod` · at Headcount planning · 8 created, 5 modified" in card
    assert "release `fpa` · one approval covers every target" in card

    await world.click("alm_approve", card_payload(request.id), user=APPROVER, request=request)
    await world.state_becomes(request.id, "executing")
    for _ in range(4):
        await world.settle()
        world.advance(60)
    done = await world.state_becomes(request.id, "succeeded")
    assert world.sync_posts() == 3
    card = text_of(world.card(done))
    assert card.count("✅ synced") == 3
    posted = card_location(done)
    assert posted is not None
    thread = [c for c in world.fake.of("chat.postMessage") if c.params.get("thread_ts") == posted.ts]
    assert sum("✅ synced" in text_of(c.params) for c in thread) == 3
    dms = [c for c in world.fake.of("chat.postMessage") if c.params.get("channel", "").startswith("D")]
    finished = [
        c for c in dms if "Synced: FP&amp;A TEST, FP&amp;A PROD, FP&amp;A PROD 1." in text_of(c.params)
    ]
    assert len(finished) == 1


async def test_a_blocked_target_is_shown_with_its_reason_and_dropped_with_a_button(world: World) -> None:
    answer = await world.ask(f"release dev test {seed.UNRELATED_MODEL_ID}")
    shown = text_of(answer)
    assert "1 of 2 targets cannot take *Capex module*" in shown
    assert "Workforce Planning" in shown
    assert set(button_values(answer)) == {"alm_release_drop_blocked", "alm_release_cancel"}
    await world.settle()
    request = await world.only_request()
    assert card_location(request) is None, "nobody is asked while a target is blocked"

    await world.click("alm_release_drop_blocked", card_payload(request.id), user=REQUESTER)
    pending = await world.state_becomes(request.id, "pending")
    await world.settle()
    card = text_of(world.card(await world.request(pending.id)))
    assert "➖ dropped" in card
    assert world.sync_posts() == 0


async def test_help_lists_the_release_subcommand(world: World) -> None:
    reply, _ = await world.command("help")
    shown = text_of(reply.json())
    assert "/alm release &lt;source&gt; &lt;target&gt;… [--revision &lt;r&gt;] | &lt;group&gt;" in shown
