"""A change window that closes between a release's waves: the later wave is not started while its
targets' window is closed; its runs keep waiting, the request stays executing with its lease
running out at the opening (audit ``wave_scheduled`` with ``runs_at``), and recovery starts the wave
then. The clock is the test world's (injected), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.sandbox.defaults import sandbox_defaults
from tests.world import ADA, GRACE, World, text_of

pytestmark = pytest.mark.anyio

T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
CLOSES, OPENS = T0 + timedelta(minutes=20), T0 + timedelta(hours=3)
WINDOWS = [
    {
        "models": ["prod"],
        "kind": "deny",
        "start": f"{CLOSES:%Y-%m-%dT%H:%M}",
        "end": f"{OPENS:%Y-%m-%dT%H:%M}",
        "reason": "Month-end close",
    }
]


@pytest.mark.world(
    slack=False, task_duration=30.0, config={"windows": WINDOWS, "models": sandbox_defaults()["models"]}
)
async def test_a_window_closing_between_waves_holds_the_next_wave_until_it_opens(
    world_on_each_database: World,
) -> None:
    world = world_on_each_database
    outcome = await world.ops.releases.request_release(ReleaseSpec("dev", (("test",), ("prod",))), actor=ADA)
    started = await world.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert started.state == "executing"  # the window is open at approval

    world.advance((CLOSES - world.clock()).total_seconds() + 60)  # wave 1 ends after the window closed
    await world.pass_time(3, seconds=1)
    held = await world.request(outcome.request.id)
    runs = await world.ops.get_runs(held.id)
    assert [(r.wave, r.state) for r in runs] == [(0, "succeeded"), (1, "waiting")]
    assert held.state == "executing"
    assert (held.runs_at, held.lease_expires_at, held.lease_owner) == (OPENS, OPENS, None)
    (event,) = [
        e for e in await world.services.store.list_audit(request_id=held.id) if e.action == "wave_scheduled"
    ]
    assert event.detail["runs_at"] == OPENS.isoformat()
    assert "Month-end close" in event.detail["reason"]
    assert world.sync_posts() == 1

    world.advance((OPENS - world.clock()).total_seconds() + 1)  # the window opens: recovery starts it
    await world.pass_time(4, seconds=30)
    done = await world.request(held.id)
    assert done.state == "succeeded"
    assert [r.state for r in await world.ops.get_runs(done.id)] == ["succeeded", "succeeded"]
    assert world.sync_posts() == 2


@pytest.mark.world(task_duration=30.0, config={"windows": WINDOWS, "models": sandbox_defaults()["models"]})
async def test_the_card_says_when_the_held_wave_runs(world: World) -> None:
    outcome = await world.ops.releases.request_release(ReleaseSpec("dev", (("test",), ("prod",))), actor=ADA)
    await world.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    world.advance((CLOSES - world.clock()).total_seconds() + 60)
    await world.pass_time(3, seconds=1)
    await world.settle()
    card = text_of(world.card(await world.request(outcome.request.id)))
    assert "🪟 The next wave waits for its change window (" in card
    assert "Month-end close" in card
    assert f"runs at {OPENS:%a %H:%M} UTC" in card
