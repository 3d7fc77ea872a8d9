"""The core's use cases against the sandbox and a real database: requests, decisions, refusals."""

from __future__ import annotations

import anyio
import pytest

from alm_bot.actor import Actor
from alm_bot.errors import (
    Action,
    ApprovalNotConfigured,
    InvalidArgument,
    ModelNotResolved,
    NextStep,
    NotAllowed,
    NothingToSync,
    Refusal,
    RequestNotPending,
)
from alm_bot.sandbox import seed
from tests.world import ADA, GRACE, LINUS, MALLORY, World, open_world

pytestmark = pytest.mark.anyio


async def test_models_are_resolved_by_alias_id_and_exact_name(core: World) -> None:
    by_alias = await core.ops.resolve("prod")
    by_id = await core.ops.resolve(seed.PROD_MODEL_ID.lower())
    by_name = await core.ops.resolve("fp&a prod")
    assert by_alias.id == by_id.id == by_name.id == seed.PROD_MODEL_ID
    assert by_alias.alias == "prod"
    assert by_alias.protected


async def test_an_unknown_model_is_refused_with_the_closest_names(core: World) -> None:
    with pytest.raises(ModelNotResolved) as refused:
        await core.ops.resolve("prd")
    assert refused.value.reference == "prd"
    assert refused.value.candidates == ["prod"]
    assert refused.value.next_step == NextStep(Action.LIST_MODELS)


async def test_a_sync_into_a_protected_model_waits_for_approval_and_posts_a_card(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)

    assert outcome.status == "awaiting_approval"
    assert outcome.request.state == "pending"
    assert outcome.request.plan.source_revision.name == seed.R4_NAME
    assert outcome.request.plan.target.revision.id == seed.R2_ID
    assert core.sync_posts() == 0
    await core.watcher.tick()
    assert core.notifier.kinds("approvals") == ["approval_needed"]
    stored = await core.ops.get_request(outcome.request.id)
    assert stored.card_ref is not None


async def test_the_plan_gets_the_change_summary_when_anaplan_has_computed_it(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    await core.pass_time(2)
    request = await core.ops.get_request(outcome.request.id)
    assert request.plan.target.summary.totals.created > 0
    assert "request_updated" in core.notifier.kinds("card")


async def test_approval_starts_the_sync_and_the_watcher_reports_success_once(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    await core.watcher.tick()

    decided = await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert decided.state == "executing"
    assert decided.anaplan_task_id
    assert core.sync_posts() == 1

    await core.pass_time()
    request = await core.ops.get_request(outcome.request.id)
    assert request.state == "succeeded"
    assert core.notifier.kinds().count("task_finished") == 2  # card thread + requester DM
    assert core.notifier.kinds("card").count("task_finished") == 1
    latest = await core.ops.get_latest_revision("prod")
    assert latest is not None
    assert latest.id == seed.R4_ID
    actions = [e.action for e in await core.ops.list_audit("prod")]
    assert {"requested", "approved", "sync_started", "sync_succeeded"} <= set(actions)


async def test_a_rejection_needs_a_reason_and_is_recorded_with_it(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    with pytest.raises(InvalidArgument) as refused:
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=False, reason="  ")
    assert refused.value.argument == "reason"

    rejected = await core.ops.requests.decide(
        outcome.request.id, actor=GRACE, approve=False, reason="wrong month"
    )
    assert rejected.state == "rejected"
    assert rejected.reason == "wrong month"
    assert core.sync_posts() == 0


async def test_a_request_nobody_decides_expires_and_is_never_called_rejected(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    core.clock.advance(25 * 3600)
    report = await core.watcher.tick()
    assert report.expired == 1
    request = await core.ops.get_request(outcome.request.id)
    assert request.state == "expired"
    assert "request_expired" in core.notifier.kinds("card")

    with pytest.raises(RequestNotPending) as refused:
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert (refused.value.state, refused.value.decided_by) == ("expired", None)


async def test_an_expired_request_cannot_be_approved_before_the_watcher_notices(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    core.clock.advance(25 * 3600)
    with pytest.raises(RequestNotPending):
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert core.sync_posts() == 0


async def test_approval_of_a_stale_plan_is_refused_and_changes_nothing(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", revision=seed.R3_NAME, actor=ADA)
    other = await core.ops.requests.request_sync("dev", "prod", actor=LINUS)
    await core.ops.requests.decide(other.request.id, actor=GRACE, approve=True)
    await core.pass_time()

    decided = await core.ops.requests.decide(outcome.request.id, actor=LINUS, approve=True)
    assert decided.state == "failed"
    assert decided.result is not None
    assert decided.result.cause == "stale_plan"
    assert decided.result.stale is not None
    assert (decided.result.stale.planned, decided.result.stale.current) == (seed.R2_NAME, seed.R4_NAME)
    assert core.sync_posts() == 1


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (ADA, Refusal.OWN_REQUEST),
        (MALLORY, Refusal.NOT_AN_APPROVER),
        (Actor("U0APPROVER1", "Grace", "mcp"), Refusal.ASSISTANT_CANNOT_DECIDE),
    ],
    ids=["requester", "non-approver", "assistant"],
)
async def test_people_who_may_not_decide_are_refused(core: World, actor: Actor, expected: Refusal) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    with pytest.raises(NotAllowed) as refused:
        await core.ops.requests.decide(outcome.request.id, actor=actor, approve=True)
    assert (refused.value.reason, refused.value.request_id) == (expected, outcome.request.id)
    assert (await core.ops.get_request(outcome.request.id)).state == "pending"


async def test_a_member_of_an_approver_group_may_approve(database_url: str) -> None:
    async with open_world(
        database_url=database_url, slack=False, config={"approval": {"approver_groups": ["S0ALMADMINS"]}}
    ) as core:
        outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        decided = await core.ops.requests.decide(
            outcome.request.id, actor=MALLORY, approve=True, actor_groups={"S0ALMADMINS"}
        )
        assert decided.state == "executing"


async def test_protected_changes_are_refused_when_no_approvers_are_configured(database_url: str) -> None:
    config = {"approval": {"approvers": [], "approver_groups": []}}
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        with pytest.raises(ApprovalNotConfigured) as refused:
            await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        assert "ALM_BOT_CONFIG" in str(refused.value)
        assert core.sync_posts() == 0


async def test_twenty_concurrent_approvals_start_exactly_one_sync(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    results: list[str] = []

    async def click(approver: Actor) -> None:
        try:
            await core.ops.requests.decide(outcome.request.id, actor=approver, approve=True)
            results.append("won")
        except RequestNotPending as refused:
            results.append(refused.state)

    async with anyio.create_task_group() as tg:
        for i in range(20):
            tg.start_soon(click, GRACE if i % 2 else LINUS)

    assert results.count("won") == 1
    assert len(results) == 20
    assert core.sync_posts() == 1


async def test_a_sync_into_an_unprotected_model_starts_at_once(core: World) -> None:
    core.sandbox.set_active_state(seed.TEST_MODEL_ID, "UNLOCKED")
    outcome = await core.ops.requests.request_sync("dev", "test", actor=ADA)
    assert outcome.status == "started"
    assert outcome.task_id
    await core.pass_time()
    assert (await core.ops.get_request(outcome.request.id)).state == "succeeded"
    assert core.notifier.kinds("card") == []  # no card for a change that needed no approval
    assert core.notifier.kinds(f"user:{ADA.id}") == ["task_finished"]


async def test_nothing_to_sync_is_refused_clearly(core: World) -> None:
    with pytest.raises(NothingToSync) as refused:
        await core.ops.requests.request_sync("Workforce Planning", "prod", actor=ADA)
    assert "no revision" in str(refused.value)


async def test_the_requester_may_cancel_a_pending_request_and_nobody_else(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    with pytest.raises(NotAllowed):
        await core.ops.requests.cancel(outcome.request.id, actor=GRACE)
    cancelled = await core.ops.requests.cancel(outcome.request.id, actor=ADA)
    assert cancelled.state == "cancelled"
    with pytest.raises(RequestNotPending):
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)


async def test_taking_a_protected_model_offline_needs_approval_then_happens(core: World) -> None:
    outcome = await core.ops.requests.request_status_change("prod", "offline", actor=ADA)
    assert outcome.status == "awaiting_approval"
    assert (await core.ops.resolve("prod")).online

    decided = await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    assert decided.state == "succeeded"
    model = await core.ops.directory.refresh_one(seed.PROD_MODEL_ID)
    assert model.active_state == "PRODUCTION_MAINTENANCE"


async def test_creating_a_revision_on_a_deployed_model_is_refused_with_advice(core: World) -> None:
    with pytest.raises(InvalidArgument) as refused:
        await core.ops.immediate.create_revision("prod", "Q4", "", actor=ADA)
    assert refused.value.argument == "model"
    revision = await core.ops.immediate.create_revision("dev", "Q4 plan", "new module", actor=ADA)
    assert revision.name == "Q4 plan"


async def test_a_comparison_asked_for_by_someone_is_reported_to_them(core: World) -> None:
    started = await core.ops.immediate.start_comparison("dev", "prod", actor=ADA, notify=f"user:{ADA.id}")
    assert started.kind == "comparison_summary"
    await core.pass_time(2)
    ready = [n for n in core.notifier.delivered if n.kind == "comparison_ready"]
    assert len(ready) == 1
    assert ready[0].payload.outcome.summary.totals.created > 0
