"""Evidence through the core: plan digests at approval and before execution, verification after a
sync (also when the sandbox leaves the target elsewhere or offline), and the release notes."""

from __future__ import annotations

import pytest
from store_builders import SYNC_PLAN, new_request

from alm_bot.evidence.digest import plan_digest
from alm_bot.evidence.export import request_record
from alm_bot.evidence.notes import release_notes
from alm_bot.records import ModelRef
from alm_bot.sandbox import seed
from alm_bot.store import ApprovalRequest, AuditEvent
from tests.world import ADA, GRACE, LINUS, World, open_world

pytestmark = pytest.mark.anyio


async def approved_and_run(core: World) -> ApprovalRequest:
    """Ada asks for dev → prod, the summary arrives, Grace approves, Anaplan finishes the sync."""
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    await core.pass_time(2)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    await core.pass_time(3)
    return await core.ops.get_request(outcome.request.id)


async def story(core: World, request_id: str) -> list[AuditEvent]:
    return list(reversed(await core.services.store.list_audit(request_id=request_id)))


async def test_the_digest_recorded_at_approval_is_the_one_recorded_before_execution(core: World) -> None:
    done = await approved_and_run(core)
    events = {e.action: e for e in await story(core, done.id)}
    approved = events["approved"].detail["plan_digest"]
    executing = events["executing"].detail["plan_digest"]
    assert approved == executing
    assert approved["digest"] == plan_digest(done.plan).digest
    assert (approved["source_revision_id"], approved["target_revision_id"]) == (seed.R4_ID, seed.R2_ID)
    assert approved["summary_digest"] is not None
    assert approved["radar_verdict"] == "review"  # the radar read the seeded plan: changes to look at


async def test_the_digest_changes_with_anything_an_approver_relies_on(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    before = plan_digest(outcome.request.plan)
    await core.pass_time(2)  # the change summary arrives: the approver now sees something else
    after = plan_digest((await core.ops.get_request(outcome.request.id)).plan)
    assert before.summary_digest is None
    assert after.summary_digest is not None
    assert before.digest != after.digest


async def test_a_sync_anaplan_reports_done_is_verified_and_recorded(core: World) -> None:
    done = await approved_and_run(core)
    assert done.state == "succeeded"
    assert done.result is not None
    verification = done.result.verification
    assert verification is not None
    assert verification.verified
    assert [(c.check, c.ok) for c in verification.checks] == [
        ("revision", True),
        ("applied", True),
        ("online", True),
    ]
    events = await story(core, done.id)
    assert [e.action for e in events][-2:] == ["sync_succeeded", "verified"]
    assert events[-1].detail["model"]["id"] == seed.PROD_MODEL_ID
    assert core.notifier.kinds("card").count("sync_verified") == 1
    assert core.notifier.kinds("card").count("release_notes") == 1


async def test_a_target_left_elsewhere_fails_verification_with_what_differs(core: World) -> None:
    core.sandbox.skip_next_sync(seed.PROD_MODEL_ID)
    done = await approved_and_run(core)
    assert done.state == "succeeded"  # Anaplan said so; the verification says otherwise
    assert done.result is not None
    verification = done.result.verification
    assert verification is not None
    assert not verification.verified
    revision = verification.checks[0]
    assert (revision.ok, revision.expected, revision.found) == (False, seed.R4_NAME, seed.R2_NAME)
    assert [e.action for e in await story(core, done.id)][-1] == "verification_failed"


async def test_a_target_still_offline_after_the_sync_is_not_verified(core: World) -> None:
    outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
    await core.pass_time(2)
    await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
    core.sandbox.set_active_state(seed.PROD_MODEL_ID, "PRODUCTION_MAINTENANCE")  # taken offline meanwhile
    await core.pass_time(3)
    done = await core.ops.get_request(outcome.request.id)
    assert done.result is not None
    assert done.result.verification is not None
    online = done.result.verification.checks[2]
    assert (online.ok, online.found) == (False, "PRODUCTION_MAINTENANCE")
    assert not done.result.verification.verified


async def test_the_release_notes_tell_the_whole_story_of_a_successful_sync(core: World) -> None:
    done = await approved_and_run(core)
    notes = await core.ops.release_notes(done.id)
    events = {e.action: e for e in await story(core, done.id)}
    approved_at = events["approved"].at
    assert notes.startswith(f"# Release notes: {seed.R4_NAME} → FP&A PROD\n")
    assert f"**{seed.R4_NAME}**" in notes
    assert "| Category | Created | Modified | Deleted |" in notes
    assert f"- Requested by {ADA.name}" in notes
    assert f"- Approved by {GRACE.name} ({approved_at:%Y-%m-%d %H:%M} UTC)" in notes
    assert f"- Sync task {done.anaplan_task_id}" in notes
    assert f"Verified: FP&A PROD is at {seed.R4_NAME}." in notes
    assert "## Data-loss radar\n\nVerdict: review" in notes
    assert "Module REV01 Revenue is changed, and the report does not show how" in notes
    assert "<@" not in notes  # neutral Markdown: no Slack markup
    assert "*Verified" not in notes


async def test_with_two_approvals_required_notes_and_export_name_both_and_the_plan_they_covered(
    database_url: str,
) -> None:
    config = {"models": {"prod": {"id": seed.PROD_MODEL_ID, "protected": True, "approvals_required": 2}}}
    async with open_world(database_url=database_url, slack=False, config=config) as core:
        outcome = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        await core.pass_time(2)
        await core.ops.requests.decide(outcome.request.id, actor=GRACE, approve=True)
        await core.ops.requests.decide(outcome.request.id, actor=LINUS, approve=True)
        await core.pass_time(3)
        done = await core.ops.get_request(outcome.request.id)
        notes = await core.ops.release_notes(done.id)
        record = request_record(done, await story(core, done.id))
    assert done.state == "succeeded"
    assert f"- Approved by {GRACE.name} (" in notes
    assert f"- Approved by {LINUS.name} (" in notes
    assert record["approved_by"] == [GRACE.name, LINUS.name]
    assert record["approval_covers_execution"] is True


def test_the_notes_of_a_release_into_two_targets_show_each_ones_changes() -> None:
    prod = SYNC_PLAN.target
    test = prod.model_copy(update={"model": ModelRef(id="E" * 32, name="FP&A TEST")})
    plan = SYNC_PLAN.model_copy(update={"targets": (prod, test)})
    notes = release_notes(new_request(plan=plan, state="requested"), [])
    assert notes.startswith("# Release notes: R1 → FP&A PROD, FP&A TEST\n")
    assert "## What changed in FP&A PROD" in notes
    assert "## Data-loss radar in FP&A TEST" in notes
