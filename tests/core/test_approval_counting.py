"""Approval policies against the sandbox and a real database: N distinct approvers, stages,
reminders and escalation, and two replicas counting one request.

prod is protected; Ada asks, Grace and Linus are the configured approvers. Stage membership is
what the Slack front end would resolve (``actor_groups``), given here directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from concurrently import run_concurrently

from alm_bot.actor import Actor
from alm_bot.errors import ApprovalNotConfigured, ApprovalNotCounted, NotAllowed, Refusal, RequestNotPending
from alm_bot.sandbox import seed
from alm_bot.services import open_services
from alm_bot.store.approvals import ApprovalRow, approvals_query
from tests.world import ADA, GRACE, LINUS, MALLORY, World, open_world

pytestmark = pytest.mark.anyio

BOSS = Actor("U0BOSS", "Barbara", "slack")
PEERS, FINANCE = "S0PEERS", "S0FINANCE"
HOUR = 3600


def prod(**policy: Any) -> dict[str, Any]:
    return {"models": {"prod": {"id": seed.PROD_MODEL_ID, "protected": True, **policy}}}


@pytest.fixture
async def two_of(database_url: str) -> AsyncIterator[World]:
    async with open_world(database_url=database_url, slack=False, config=prod(approvals_required=2)) as stack:
        yield stack


async def approvals(core: World, request_id: str) -> list[str]:
    rows = await core.services.store.select(ApprovalRow, approvals_query(request_id))
    return [r.approver_id for r in rows]


async def actions(core: World, request_id: str) -> list[str]:
    return [e.action for e in reversed(await core.services.store.list_audit(request_id=request_id))]


async def test_with_two_required_the_first_approval_leaves_it_pending_and_starts_nothing(
    two_of: World,
) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
    first = await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert first.state == "pending"
    assert two_of.sync_posts() == 0
    counted = await two_of.ops.approvals.progress(first)
    assert (counted.counted, counted.required, counted.met) == (1, 2, False)
    assert [a.person_name for s in counted.stages for a in s.approved_by] == [GRACE.name]
    assert (await actions(two_of, first.id))[-1] == "approval_counted"


async def test_the_same_person_approving_twice_counts_once_and_is_told_so(two_of: World) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
    await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    with pytest.raises(ApprovalNotCounted) as repeat:
        await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert repeat.value.reason is Refusal.ALREADY_APPROVED
    assert (repeat.value.approvals, repeat.value.required) == (1, 2)
    assert "already approved" in str(repeat.value)
    assert "U0APPROVER2" in str(repeat.value)  # who can still approve
    assert await approvals(two_of, outcome.request.id) == ["U0APPROVER1"]
    assert (await two_of.ops.get_request(outcome.request.id)).state == "pending"
    assert two_of.sync_posts() == 0


async def test_the_second_distinct_approver_starts_the_sync_with_both_counted(two_of: World) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
    await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    second = await two_of.ops.requests.decide(outcome.request.id, actor=LINUS, approve=True)
    assert second.state == "executing"
    assert second.decided_by_id == LINUS.id
    assert two_of.sync_posts() == 1
    assert await approvals(two_of, second.id) == ["U0APPROVER1", "U0APPROVER2"]
    steps = await actions(two_of, second.id)
    assert steps.count("approval_counted") == 1
    assert steps.index("approval_counted") < steps.index("approved") < steps.index("executing")
    (approved,) = [
        e for e in await two_of.services.store.list_audit(request_id=second.id) if e.action == "approved"
    ]
    assert (approved.detail["approvals"], approved.detail["required"]) == (2, 2)


async def test_the_requester_is_never_counted(two_of: World) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=GRACE)
    with pytest.raises(NotAllowed) as own:
        await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert own.value.reason is Refusal.OWN_REQUEST
    assert await approvals(two_of, outcome.request.id) == []


async def test_any_approvers_rejection_ends_a_partly_approved_request(two_of: World) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
    await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    rejected = await two_of.ops.requests.decide(outcome.request.id, actor=LINUS, approve=False, reason="no")
    assert rejected.state == "rejected"
    with pytest.raises(RequestNotPending):
        await two_of.ops.requests.decide(outcome.request.id, actor=LINUS, approve=True)
    assert two_of.sync_posts() == 0


async def test_a_partly_approved_request_still_expires(two_of: World) -> None:
    outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
    await two_of.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    two_of.clock.advance(25 * HOUR)
    await two_of.watcher.tick()
    assert (await two_of.ops.get_request(outcome.request.id)).state == "expired"
    assert two_of.sync_posts() == 0


async def test_two_stages_need_one_of_each_group_and_a_person_counts_in_one_stage_only(
    database_url: str,
) -> None:
    stages = [{"approvers": [PEERS], "count": 1}, {"approvers": [FINANCE], "count": 1, "name": "finance"}]
    async with open_world(database_url=database_url, slack=False, config=prod(stages=stages)) as core:
        outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        rid = outcome.request.id
        # Grace is in both groups: she fills the peers' place first …
        await core.ops.requests.decide(rid, actor=GRACE, approve=True, actor_groups={PEERS, FINANCE})
        # … and moves to finance's when Linus, a peer only, comes: both count, one stage each.
        done = await core.ops.requests.decide(rid, actor=LINUS, approve=True, actor_groups={PEERS})
        assert done.state == "executing"
        assert core.sync_posts() == 1


async def test_a_stage_that_is_complete_takes_nobody_else(database_url: str) -> None:
    stages = [{"approvers": [PEERS], "count": 1}, {"approvers": [FINANCE], "count": 1}]
    async with open_world(database_url=database_url, slack=False, config=prod(stages=stages)) as core:
        rid = (await core.ops.requests.request_sync("dev", "prod", actor=ADA)).request.id
        await core.ops.requests.decide(rid, actor=LINUS, approve=True, actor_groups={PEERS})
        with pytest.raises(ApprovalNotCounted) as extra:
            await core.ops.requests.decide(rid, actor=MALLORY, approve=True, actor_groups={PEERS})
        assert extra.value.reason is Refusal.STAGES_COMPLETE
        assert extra.value.approvers is not None
        assert extra.value.approvers.groups == (FINANCE,)
        with pytest.raises(NotAllowed):  # in neither group
            await core.ops.requests.decide(rid, actor=BOSS, approve=True)
        counted = await core.ops.approvals.progress(await core.ops.get_request(rid))
        assert [s.met for s in counted.stages] == [True, False]
        finished = await core.ops.requests.decide(rid, actor=GRACE, approve=True, actor_groups={FINANCE})
        assert finished.state == "executing"
        assert core.sync_posts() == 1


async def test_one_reminder_and_one_escalation_with_an_advanced_clock_even_with_two_watchers(
    database_url: str,
) -> None:
    config = prod(approvals_required=2, escalate_after="6h", escalate_to=[BOSS.id])
    config["approval"] = {"remind_after": "2h"}
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        rid = (await core.ops.requests.request_sync("dev", "prod", actor=ADA)).request.id
        other = core.new_watcher()
        await core.watcher.tick()
        core.clock.advance(HOUR)
        await run_concurrently([core.watcher.tick, other.tick])
        assert "approval_reminder" not in core.notifier.kinds("card")

        core.clock.advance(1.5 * HOUR)  # 2.5 h: the reminder is due
        await run_concurrently([core.watcher.tick, other.tick])
        await run_concurrently([core.watcher.tick, other.tick])
        assert core.notifier.kinds("card").count("approval_reminder") == 1
        with pytest.raises(NotAllowed):  # not escalated yet
            await core.ops.requests.decide(rid, actor=BOSS, approve=True)

        core.clock.advance(4 * HOUR)  # 6.5 h: escalation
        await run_concurrently([core.watcher.tick, other.tick])
        await run_concurrently([core.watcher.tick, other.tick])
        assert core.notifier.kinds("card").count("approval_escalated") == 1
        assert core.notifier.kinds("user:U0BOSS") == ["approval_escalated"]
        assert core.notifier.kinds("card").count("approval_reminder") == 1
        steps = await actions(core, rid)
        assert (steps.count("reminded"), steps.count("escalated")) == (1, 1)

        await core.ops.requests.decide(rid, actor=BOSS, approve=True)
        done = await core.ops.requests.decide(rid, actor=GRACE, approve=True)
        assert done.state == "executing"


async def test_two_replicas_count_one_approval_per_person_and_approve_once(two_of: World) -> None:
    settings = two_of.services.settings
    async with open_services(settings, sandbox=two_of.sandbox, clock=two_of.clock) as replica:
        outcome = await two_of.ops.requests.request_sync("dev", "prod", actor=ADA)
        rid = outcome.request.id
        results: list[str] = []

        async def click(ops: Any, actor: Actor) -> None:
            try:
                results.append((await ops.requests.decide(rid, actor=actor, approve=True)).state)
            except ApprovalNotCounted:
                results.append("repeat")
            except RequestNotPending:
                results.append("late")

        calls = [
            lambda ops=ops, actor=actor: click(ops, actor)
            for ops in (two_of.ops, replica.ops)
            for actor in (GRACE, GRACE, LINUS)
        ]
        await run_concurrently(calls)
        assert sorted(await approvals(two_of, rid)) == ["U0APPROVER1", "U0APPROVER2"]
        assert results.count("executing") == 1
        assert two_of.sync_posts() == 1
        assert (await actions(two_of, rid)).count("approved") == 1


async def test_a_model_whose_stages_name_its_approvers_needs_none_in_approval(database_url: str) -> None:
    config = prod(stages=[{"approvers": [PEERS]}]) | {"approval": {"approvers": []}}
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        assert outcome.status == "awaiting_approval"
        assert outcome.approvers == [PEERS]
        with pytest.raises(ApprovalNotConfigured):  # test is deployed: the empty defaults apply
            await core.ops.requests.request_sync("dev", "test", actor=ADA)
