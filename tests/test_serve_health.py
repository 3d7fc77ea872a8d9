"""``/healthz`` answers within 5 s in every state, and says which part does not answer.

serve's app runs in-process (`build_app` under uvicorn on loopback) with the sandbox as Anaplan and
the loopback fake Slack, so a part can be made to hang (a sandbox delay fault on the login) or to
refuse (Slack answering ``not_in_channel`` to every card) while the app runs.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx2
import pytest

from alm_bot.config import load_settings
from alm_bot.health import refused_rows
from alm_bot.sandbox import Sandbox
from alm_bot.serve import build_app
from alm_bot.services import open_services, sandbox_defaults
from tests.live import WAIT, eventually, mcp_client, serving
from tests.mcp.calls import ok
from tests.story_stack import APPROVALS, MCP_TOKEN, REQUESTER, running, story_world
from tests.test_serve import health
from tests.world import text_of

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

PROBE_BOUND = 5.0  # what an orchestrator's probe allows (the Dockerfile's HEALTHCHECK allows 8)


async def timed_health(base: str) -> tuple[int, dict[str, object], float]:
    started = time.monotonic()
    status, body = await health(base)
    return status, body, time.monotonic() - started


async def test_an_anaplan_login_that_never_answers_reads_timeout_within_the_probe_bound(
    tmp_path: Path,
) -> None:
    settings = load_settings(
        env={"ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}"}, defaults=sandbox_defaults()
    )
    async with open_services(settings, sandbox=Sandbox()) as services, serving(build_app(services)) as base:
        hang = {"method": "POST", "path": "token/authenticate", "delay": 120, "times": 100}
        async with httpx2.AsyncClient(timeout=WAIT) as http:
            (await http.post(f"{base}/sandbox/_sandbox/faults", json=hang)).raise_for_status()
        status, body, took = await timed_health(base)

    assert took < PROBE_BOUND, took
    assert status == 503
    assert body["anaplan"] == "timeout"
    assert body["database"] == "ok"


async def test_notices_slack_keeps_refusing_make_health_degraded_not_unhealthy(tmp_path: Path) -> None:
    async with story_world(tmp_path) as world, running(world) as bot:
        world.fake.fail_next("chat.postMessage", status=200, error="not_in_channel", times=1000)
        async with mcp_client(f"{bot.base_url}/mcp", MCP_TOKEN) as client:
            await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})
        await eventually(
            lambda: len(world.fake.of("chat.postMessage")) >= 3,
            "three refused attempts at the card",
            timeout=WAIT,
        )
        seen: dict[str, object] = {}

        async def degraded() -> bool:
            status, body, took = await timed_health(bot.base_url)
            assert took < PROBE_BOUND, took
            seen.update(body, http_status=status)
            return str(body.get("notices", "")).startswith("degraded")

        await eventually(degraded, "health to report the refused notices", timeout=WAIT)

    assert seen["http_status"] == 200
    assert seen["status"] == "degraded"
    assert re.search(r"\d+ notice\(s\) Slack keeps refusing, oldest \d+s old", str(seen["notices"])), seen
    assert seen["slack"] == "ok"


async def test_a_refused_card_is_told_to_the_requester_and_the_channel_hears_when_slack_accepts_again(
    tmp_path: Path,
) -> None:
    async with (
        story_world(tmp_path) as world,
        open_services(world.settings, sandbox=world.sandbox) as services,
    ):
        app = build_app(services)
        async with serving(app) as base:
            world.fake.fail_next("chat.postMessage", status=200, error="not_in_channel", times=3)
            async with mcp_client(f"{base}/mcp", MCP_TOKEN) as client:
                asked = await ok(client, "alm_sync_models", {"source_model": "dev", "target_model": "prod"})

            async def refused() -> bool:
                return bool(await refused_rows(services.store))

            await eventually(refused, "the card to be refused three times")
            await app.state.refusals.look()
            (dm,) = await world.direct_messages(REQUESTER, containing="cannot be shown to the approvers")

            async def delivered() -> bool:
                return not await refused_rows(services.store)

            await eventually(delivered, "Slack to accept the card at last")
            await app.state.refusals.look()
            await app.state.refusals.look()  # a second look after the episode says nothing more
            told = await world.fake.wait_for(
                "chat.postMessage",
                where=lambda c: (
                    c.params.get("channel") == APPROVALS and "Slack refused" in c.params.get("text", "")
                ),
                timeout=WAIT,
            )

    assert asked["request_id"] in text_of(dm.params)
    assert "not_in_channel" in text_of(dm.params)
    assert len(told) == 1
    assert "not_in_channel" in text_of(told[0].params)
