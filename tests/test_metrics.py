"""``GET /metrics`` after a real request → approval → sync story, read with prometheus_client's own parser.

The same story then asks ``/alm stats prod``: the delivery figures count that one sync.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import httpx2
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from alm_bot.slack.buttons import APPROVE
from tests.live import WAIT
from tests.story_stack import APPROVALS, APPROVER, REQUESTER, running, story_world
from tests.world import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def samples(text: str) -> list[Sample]:
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def value(found: Iterable[Sample], name: str, **labels: str) -> float:
    (match,) = [
        s.value for s in found if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return match


async def scrape(http: httpx2.AsyncClient) -> list[Sample]:
    answer = await http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=")
    return samples(answer.text)


async def test_metrics_after_a_prod_sync_approved_in_slack(tmp_path: Path) -> None:
    async with story_world(tmp_path) as world, running(world) as bot:
        before = await scrape(bot.http)
        assert value(before, "alm_bot_store_up") == 1
        assert value(before, "alm_bot_approval_wait_seconds_count") == 0

        world.sandbox.add_fault("GET", ".", status=429, retry_after=0)  # one 429, retried by the client
        world.fake.fail_next("chat.postMessage", 500)  # the card's first post fails, the watcher retries
        await bot.slash("sync dev prod", user=REQUESTER)
        (_, card) = await world.fake.wait_for(
            "chat.postMessage", count=2, where=lambda c: c.params.get("channel") == APPROVALS, timeout=WAIT
        )
        request = await bot.only_request()
        await bot.click(card, APPROVE, user=APPROVER)
        await bot.state_becomes(request.id, "executing")
        world.finish_anaplan_tasks()
        await bot.state_becomes(request.id, "succeeded")
        await world.direct_messages(REQUESTER, containing=f"Your request {request.id} succeeded")
        after = await scrape(bot.http)
        await bot.slash("stats prod", user=REQUESTER, reply_to="stats")
        (stats,) = await world.fake.wait_for(
            "response_url", where=lambda c: c.path == "/response/stats", timeout=WAIT
        )

    target = request.target_model_id
    assert value(after, "alm_bot_requests", operation="sync", state="succeeded") == 1
    assert value(after, "alm_bot_approval_wait_seconds_count") == 1
    assert value(after, "alm_bot_approval_wait_seconds_bucket", le="+Inf") == 1
    assert value(after, "alm_bot_sync_duration_seconds_count", target=target) == 1
    assert value(after, "alm_bot_notice_lag_seconds_count") >= 1
    assert value(after, "alm_bot_anaplan_requests_total", status="200") > 0
    assert value(after, "alm_bot_anaplan_requests_total", status="429") == 1
    assert value(after, "alm_bot_anaplan_rate_limited_total") == 1
    assert value(after, "alm_bot_watcher_ticks_total") > value(before, "alm_bot_watcher_ticks_total")
    assert value(after, "alm_bot_outbox_depth") >= 0
    assert value(after, "alm_bot_slack_api_errors_total", error="internal_error") == 1
    shown = text_of(stats.params)
    assert "Delivery figures into FP&amp;A PROD (prod), last 90 days" in shown
    assert "1 sync succeeded" in shown
    assert "change failure rate 0% (0 of 1)" in shown
