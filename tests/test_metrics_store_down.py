"""``GET /metrics`` while the database accepts connections but never answers: it still answers, at once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx2
import pytest
from anyio.abc import SocketStream
from prometheus_client.parser import text_string_to_metric_families
from starlette.applications import Starlette

from alm_bot.config import load_settings
from alm_bot.metrics import metrics_route
from alm_bot.sandbox import Sandbox
from alm_bot.services import open_services, sandbox_defaults

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def silent_database() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never says a word (a hung PostgreSQL)."""

    async def hold(stream: SocketStream) -> None:
        async with stream:
            await anyio.sleep_forever()

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, hold)
        yield listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610 - anyio, not Django
        tasks.cancel_scope.cancel()


async def test_metrics_answers_without_store_figures_when_the_database_hangs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with silent_database() as port:
        settings = load_settings(
            env={"ALM_BOT_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{port}/test"},
            defaults=sandbox_defaults(),
        )
        async with open_services(settings, sandbox=Sandbox(), upgrade=False) as services:
            app = Starlette(routes=[metrics_route(services, None)])
            transport = httpx2.ASGITransport(app=app)
            async with httpx2.AsyncClient(transport=transport, base_url="http://metrics") as http:
                with anyio.fail_after(20):  # the store's share is cut at 2 s
                    answer = await http.get("/metrics")
                    await http.get("/metrics")

    assert answer.status_code == 200
    families = {family.name: family for family in text_string_to_metric_families(answer.text)}
    assert families["alm_bot_store_up"].samples[0].value == 0
    assert "alm_bot_requests" not in families
    assert "alm_bot_watcher_ticks" in families  # the process's own counters are still there
    (warning,) = [r.getMessage() for r in caplog.records if r.name == "alm_bot.metrics"]  # once per outage
    assert warning == "/metrics: the database did not answer, store figures left out: no answer within 2 s"
