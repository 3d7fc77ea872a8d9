"""A second approved sync into a target that is still syncing: Anaplan answers 409, the request fails
with the busy reason, and the sync POST is not sent again — neither by the client nor by the core."""

from __future__ import annotations

import pytest

from tests.world import ADA, GRACE, open_world

pytestmark = pytest.mark.anyio


async def test_a_second_sync_into_a_syncing_target_fails_as_busy_and_is_not_retried(
    database_url: str,
) -> None:
    async with open_world(database_url=database_url, slack=False, task_duration=60.0) as core:
        first = await core.ops.requests.request_sync("dev", "prod", actor=ADA)
        second = await core.ops.requests.request_sync("test", "prod", actor=ADA)
        await core.watcher.tick()

        started = await core.ops.requests.decide(first.request.id, actor=GRACE, approve=True)
        refused = await core.ops.requests.decide(second.request.id, actor=GRACE, approve=True)
        await core.watcher.tick()
        posts_after_ticks = core.sync_posts()

    assert started.state == "executing"
    assert refused.state == "failed"
    assert "is busy" in str(refused.reason) or "is busy" in str(refused.result)
    assert posts_after_ticks == 2, "one POST each; the refused one is never sent again"
