"""Two replicas on one database and one Anaplan never start a target of a release twice."""

from __future__ import annotations

import pytest

from alm_bot.operations.ownership import CHECK_DEADLINE, LEASE
from alm_bot.operations.release_requests import ReleaseSpec
from alm_bot.sandbox import seed
from alm_bot.services import open_services
from alm_bot.watcher import Watcher
from tests.core.concurrently import run_concurrently
from tests.core.release_world import add_prod_copies, copy_id
from tests.world import ADA, GRACE, open_world

pytestmark = pytest.mark.anyio

DEAD = "dead-host:1:abcdef"
TARGETS = ("test", "prod", copy_id(1), copy_id(2))


def sync_posts_per_model(log: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for model_id in log:
        counts[model_id] = counts.get(model_id, 0) + 1
    return counts


async def test_two_replicas_taking_up_an_orphaned_release_start_each_target_once(database_url: str) -> None:
    async with open_world(database_url=database_url, slack=False, task_duration=30.0) as core:
        add_prod_copies(core.sandbox, 2)
        spec = ReleaseSpec("dev", ((TARGETS[0], TARGETS[1]), (TARGETS[2], TARGETS[3])))
        outcome = await core.ops.releases.request_release(spec, actor=ADA)
        # Approved by a process that died before it started anything: its lease lapses.
        async with core.services.store.transaction() as tx:
            await tx.transition(
                outcome.request.id,
                {"pending"},
                "approved",
                decided_by_id=GRACE.id,
                lease_owner=DEAD,
                lease_expires_at=core.clock() + LEASE,
                deadline_at=core.clock() + CHECK_DEADLINE,
            )
        core.clock.advance(LEASE.total_seconds() + 1)
        settings = core.services.settings
        async with open_services(settings, sandbox=core.sandbox, clock=core.clock) as replica:
            watchers = [
                Watcher(core.services.ops.watching, core.notifier, clock=core.clock),
                Watcher(replica.ops.watching, core.notifier, clock=core.clock),
            ]
            for _ in range(8):
                await run_concurrently([w.tick for w in watchers])
                core.sandbox.advance(60)
                core.clock.advance(60)

        done = await core.ops.get_request(outcome.request.id)
        posts = [
            e.path.split("/models/", 1)[1].split("/", 1)[0]
            for e in core.sandbox.request_log
            if e.method == "POST" and e.path.endswith("/syncTasks")
        ]
        runs = await core.ops.get_runs(done.id)

    assert done.state == "succeeded"
    assert [r.state for r in runs] == ["succeeded"] * 4
    assert sync_posts_per_model(posts) == {r.target_model_id: 1 for r in runs}
    assert set(posts[:2]) == {seed.TEST_MODEL_ID, seed.PROD_MODEL_ID}, "wave 1 first"
    assert core.notifier.kinds(f"user:{ADA.id}").count("task_finished") == 1
