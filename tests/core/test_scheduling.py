"""Change windows in the core: approved outside its window, a request waits `scheduled`, then runs.

Against the sandbox and a real database (SQLite and PostgreSQL), with a clock the tests move: no
sleeps. Each window is written relative to the moment the test starts, or on a daylight-saving day
the clock is moved to.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import pytest

from alm_bot.config import WindowConfig
from alm_bot.errors import InvalidArgument, NotAllowed, RequestNotPending
from alm_bot.sandbox import seed
from alm_bot.services import open_services
from alm_bot.store import ApprovalRequest
from alm_bot.watcher import Watcher
from tests.world import ADA, GRACE, LINUS, MALLORY, World, open_world

pytestmark = pytest.mark.anyio

HOUR = timedelta(hours=1)


def minute(instant: datetime) -> datetime:
    return instant.astimezone(UTC).replace(second=0, microsecond=0)


def deny_now(hours: float = 2.0, models: tuple[str, ...] = ("prod",)) -> tuple[dict[str, Any], datetime]:
    """A one-off deny window open from an hour ago until ``hours`` from now (UTC); and its end."""
    now = datetime.now(UTC)
    end = minute(now + timedelta(hours=hours))
    window = {
        "models": list(models),
        "kind": "deny",
        "start": f"{minute(now - HOUR):%Y-%m-%dT%H:%M}",
        "end": f"{end:%Y-%m-%dT%H:%M}",
        "reason": "Q4 close",
    }
    return window, end


def later(core: World, seconds: float) -> None:
    """Time passes for alm-bot and Anaplan alike."""
    core.sandbox.advance(seconds)
    core.clock.advance(seconds)


def move_to(core: World, instant: datetime) -> None:
    later(core, (instant - core.clock()).total_seconds())


@asynccontextmanager
async def windowed(database_url: str, *windows: dict[str, Any], **approval: Any) -> AsyncIterator[World]:
    config: dict[str, Any] = {"windows": list(windows)}
    if approval:
        config["approval"] = approval
    async with open_world(database_url=database_url, slack=False, task_duration=30.0, config=config) as core:
        yield core


async def approved(core: World, target: str = "prod") -> ApprovalRequest:
    pending = (await core.ops.requests.request_sync("dev", target, actor=ADA)).request
    return await core.ops.requests.decide(pending.id, actor=GRACE, approve=True)


async def state_of(core: World, request: ApprovalRequest) -> str:
    return str((await core.ops.get_request(request.id)).state)


async def actions(core: World, request: ApprovalRequest) -> list[str]:
    return [e.action for e in reversed(await core.services.store.list_audit(request_id=request.id))]


async def test_approved_inside_a_deny_window_it_waits_scheduled_with_no_sync_then_runs_at_its_end(
    database_url: str,
) -> None:
    window, end = deny_now()
    async with windowed(database_url, window) as core:
        request = await approved(core)
        assert (request.state, request.runs_at, request.lease_owner) == ("scheduled", end, None)
        assert request.window is not None
        assert "deny window 'Q4 close' is open" in request.window.reason
        await core.watcher.tick()
        later(core, 3600)
        await core.watcher.tick()
        assert await state_of(core, request) == "scheduled"
        assert core.sync_posts() == 0
        assert "request_updated" in core.notifier.kinds("card")  # the card says when it runs

        move_to(core, end + timedelta(seconds=1))
        await core.watcher.tick()
        assert await state_of(core, request) == "executing"
        assert core.sync_posts() == 1
        await core.pass_time()
        assert await state_of(core, request) == "succeeded"
        assert core.sync_posts() == 1
        # (evidence steps, such as "verified", may follow)
        assert (await actions(core, request))[:7] == [
            "requested",
            "pending",
            "approved",
            "scheduled",
            "executing",
            "sync_started",
            "sync_succeeded",
        ]


async def test_a_model_with_only_allow_windows_waits_for_the_next_opening(database_url: str) -> None:
    opens = minute(datetime.now(UTC) + 3 * HOUR)
    window = {"models": ["prod"], "kind": "allow", "cron": f"{opens:%M %H} * * *", "duration": "1h"}
    async with windowed(database_url, window) as core:
        request = await approved(core)
        assert (request.state, request.runs_at) == ("scheduled", opens)
        move_to(core, opens - timedelta(seconds=1))
        await core.watcher.tick()
        assert (await state_of(core, request), core.sync_posts()) == ("scheduled", 0)
        later(core, 2)
        await core.watcher.tick()
        assert (await state_of(core, request), core.sync_posts()) == ("executing", 1)


async def test_an_unprotected_change_asked_for_outside_its_allow_window_is_scheduled_too(
    database_url: str,
) -> None:
    opens = minute(datetime.now(UTC) + 3 * HOUR)
    window = {"models": ["test"], "kind": "allow", "cron": f"{opens:%M %H} * * *", "duration": "1h"}
    async with windowed(database_url, window) as core:
        core.sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")  # not deployed: no approval
        outcome = await core.ops.requests.request_sync("dev", "test", actor=ADA)
        assert (outcome.status, outcome.request.state, outcome.request.runs_at) == (
            "scheduled",
            "scheduled",
            opens,
        )
        move_to(core, opens + timedelta(seconds=1))
        await core.watcher.tick()
        assert (await state_of(core, outcome.request), core.sync_posts()) == ("executing", 1)


@pytest.mark.parametrize(
    ("day", "asked", "runs"),
    [
        # Spring forward in London: 01:30 does not exist on 28 March 2027; it opens at 02:00 BST.
        ("spring", datetime(2027, 3, 28, 0, 10, tzinfo=UTC), datetime(2027, 3, 28, 1, 0, tzinfo=UTC)),
        # Fall back: 01:30 happens twice on 31 October 2027; it opens once, at the first (BST).
        ("fall", datetime(2027, 10, 31, 0, 0, tzinfo=UTC), datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ],
)
async def test_on_daylight_saving_days_the_request_runs_at_the_windows_real_opening(
    database_url: str, day: str, asked: datetime, runs: datetime
) -> None:
    window = {
        "models": ["prod"],
        "kind": "allow",
        "cron": "30 1 * * *",
        "duration": "1h",
        "timezone": "Europe/London",
    }
    async with windowed(database_url, window) as core:
        move_to(core, asked)
        request = await approved(core)
        assert (request.state, request.runs_at) == ("scheduled", runs), day
        assert request.window is not None
        assert request.window.zone == "Europe/London"
        move_to(core, runs - timedelta(seconds=1))
        await core.watcher.tick()
        assert await state_of(core, request) == "scheduled"
        later(core, 2)
        await core.watcher.tick()
        assert (await state_of(core, request), core.sync_posts()) == ("executing", 1)


async def test_an_override_approver_runs_it_now_with_a_reason_audited_and_posted(database_url: str) -> None:
    window, _ = deny_now()
    async with windowed(database_url, window, override_approvers=[LINUS.id]) as core:
        request = await approved(core)
        for who in (MALLORY, GRACE):
            with pytest.raises(NotAllowed):
                await core.ops.requests.override(request.id, actor=who, reason="hotfix")
        with pytest.raises(InvalidArgument):
            await core.ops.requests.override(request.id, actor=LINUS, reason="  ")
        assert core.sync_posts() == 0

        ran = await core.ops.requests.override(request.id, actor=LINUS, reason="payroll hotfix")
        assert (ran.state, core.sync_posts()) == ("executing", 1)
        assert ran.window is not None
        assert (ran.window.overridden_by_id, ran.window.override_reason) == (
            LINUS.id,
            "payroll hotfix",
        )
        with pytest.raises(RequestNotPending):
            await core.ops.requests.override(request.id, actor=LINUS, reason="again")
        await core.pass_time()
        assert await state_of(core, request) == "succeeded"
        events = await core.services.store.list_audit(request_id=request.id)
        overrides = [e for e in events if e.action == "window_overridden"]
        assert len(overrides) == 1
        assert (overrides[0].actor_id, overrides[0].detail["reason"]) == (LINUS.id, "payroll hotfix")
        posted = [n for n in core.notifier.delivered if n.kind == "window_overridden"]
        assert [n.destination for n in posted] == ["approvals"]
        assert core.sync_posts() == 1


async def test_a_plan_gone_stale_by_the_windows_opening_fails_with_the_reason_and_syncs_nothing(
    database_url: str,
) -> None:
    window, end = deny_now()
    async with windowed(database_url, window) as core:
        request = await approved(core)
        # Someone syncs prod outside alm-bot while the request waits: its target revision moves.
        alm = core.services.client.alm(seed.PROD_MODEL_ID)
        await alm.sync_models(seed.R4_ID, seed.DEV_MODEL_ID, seed.R2_ID, wait_for_completion=False)
        later(core, 120)
        move_to(core, end + timedelta(seconds=1))
        await core.watcher.tick()
        failed = await core.ops.get_request(request.id)
        assert failed.state == "failed"
        assert failed.result is not None
        assert failed.result.cause == "stale_plan"
        assert core.sync_posts() == 1  # only the one made outside alm-bot


async def test_the_requester_may_cancel_a_scheduled_request_and_nothing_starts(database_url: str) -> None:
    window, end = deny_now()
    async with windowed(database_url, window) as core:
        request = await approved(core)
        with pytest.raises(NotAllowed):
            await core.ops.requests.cancel(request.id, actor=GRACE)
        assert (await core.ops.requests.cancel(request.id, actor=ADA)).state == "cancelled"
        move_to(core, end + timedelta(seconds=1))
        await core.pass_time()
        assert (await state_of(core, request), core.sync_posts()) == ("cancelled", 0)


async def test_two_replicas_at_the_windows_opening_start_each_scheduled_request_once(
    database_url: str,
) -> None:
    window, end = deny_now(models=("prod", "test"))
    async with windowed(database_url, window) as core:
        settings = core.services.settings
        async with open_services(settings, sandbox=core.sandbox, clock=core.clock, upgrade=False) as second:
            core.sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")
            into_prod = await approved(core)
            into_test = (await second.ops.requests.request_sync("dev", "test", actor=ADA)).request
            assert (into_prod.state, into_test.state) == ("scheduled", "scheduled")
            replicas = [
                Watcher(core.services.ops.watching, core.notifier, clock=core.clock),
                Watcher(second.ops.watching, core.notifier, clock=core.clock),
            ]
            move_to(core, end + timedelta(seconds=1))
            for _ in range(3):
                async with anyio.create_task_group() as both:
                    for replica in replicas:
                        both.start_soon(replica.tick)
            assert core.sync_posts() == 2
            for request in (into_prod, into_test):
                assert (await actions(core, request)).count("executing") == 1
                assert await state_of(core, request) == "executing"


async def test_a_window_added_while_it_waits_is_seen_at_runs_at_and_it_waits_again(database_url: str) -> None:
    window, end = deny_now()
    async with windowed(database_url, window) as core:
        request = await approved(core)
        assert request.runs_at == end
        # The configuration changes (a replica restarted with it): another freeze right after the first.
        later_freeze = {
            "models": ["prod"],
            "kind": "deny",
            "start": f"{end:%Y-%m-%dT%H:%M}",
            "end": f"{end + HOUR:%Y-%m-%dT%H:%M}",
            "reason": "audit week",
        }
        settings = core.services.settings.model_copy(
            update={"windows": (*core.services.settings.windows, WindowConfig(**later_freeze))}
        )
        async with open_services(
            settings, sandbox=core.sandbox, clock=core.clock, upgrade=False
        ) as restarted:
            replica = Watcher(restarted.ops.watching, core.notifier, clock=core.clock)
            move_to(core, end + timedelta(seconds=1))
            await replica.tick()
            waiting = await restarted.ops.get_request(request.id)
            assert (waiting.state, waiting.runs_at, core.sync_posts()) == ("scheduled", end + HOUR, 0)
            assert waiting.window is not None
            assert "audit week" in waiting.window.reason
            assert "rescheduled" in await actions(core, request)
            move_to(core, end + HOUR + timedelta(seconds=1))
            await replica.tick()
            assert (await state_of(core, request), core.sync_posts()) == ("executing", 1)
