"""Story: after Anaplan reports a prod sync done, alm-bot checks where prod really is, says so in the
card's thread, and posts the release notes there; when the target was left elsewhere, it says what
differs. Real app over HTTP, fake Slack, sandbox, SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from alm_bot.sandbox import seed
from alm_bot.slack.buttons import APPROVE
from tests.story_stack import APPROVER, REQUESTER, running, story_world

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_a_verified_sync_says_where_prod_is_and_posts_the_release_notes(tmp_path: Path) -> None:
    async with story_world(tmp_path) as world, running(world) as bot:
        await bot.slash("sync dev prod", user=REQUESTER)
        card = await world.card()
        request = await bot.only_request()
        await bot.click(card, APPROVE, user=APPROVER)
        await bot.state_becomes(request.id, "executing")
        world.finish_anaplan_tasks()
        done = await bot.state_becomes(request.id, "succeeded")
        (verified,) = await world.thread_replies(card, containing="Verified:")
        (notes,) = await world.thread_replies(card, containing="Release notes")
        events = [e.action for e in reversed(await bot.services.store.list_audit(request_id=request.id))]

    revision = done.plan.source_revision.name  # type: ignore[union-attr]
    assert verified.params["text"] == f"Verified: FP&amp;A PROD is at {revision}"  # escaped on the way out
    assert f"✅ Verified: FP&amp;A PROD is at *{revision}*" in str(verified.params["blocks"])
    blocks = str(notes.params["blocks"])
    assert f"*{revision}*" in blocks  # the Markdown's **bold** as Slack's *bold*
    assert "Approved by" in blocks
    assert done.anaplan_task_id is not None
    assert done.anaplan_task_id in blocks
    assert events[-2:] == ["sync_succeeded", "verified"]


async def test_a_sync_that_left_prod_elsewhere_is_reported_not_verified(tmp_path: Path) -> None:
    async with story_world(tmp_path) as world, running(world) as bot:
        world.sandbox.skip_next_sync(seed.PROD_MODEL_ID)
        await bot.slash("sync dev prod", user=REQUESTER)
        card = await world.card()
        request = await bot.only_request()
        await bot.click(card, APPROVE, user=APPROVER)
        await bot.state_becomes(request.id, "executing")
        world.finish_anaplan_tasks()
        done = await bot.state_becomes(request.id, "succeeded")
        (reply,) = await world.thread_replies(card, containing="Not verified")
        (notes,) = await world.thread_replies(card, containing="Release notes")

    assert done.result is not None
    verification = done.result.verification
    assert verification is not None
    assert not verification.verified
    revision, applied, online = verification.checks
    planned_from = done.plan.target.revision.name  # type: ignore[union-attr]
    planned_to = done.plan.source_revision.name  # type: ignore[union-attr]
    assert (revision.ok, revision.expected, revision.found) == (False, planned_to, planned_from)
    # Only where the revision was made is listed: no sync entries, so the list can not tell.
    assert (applied.ok, applied.found, online.ok) == (None, "not listed", True)
    text = str(reply.params["blocks"])
    assert f"latest revision: expected {revision.expected}, found {planned_from}" in text
    assert "Not verified" in str(notes.params["blocks"])
