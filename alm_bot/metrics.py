"""``GET /metrics``: alm-bot's figures in Prometheus text format, one `CollectorRegistry` per app.

Two sources feed it:

- facts in the store, read at scrape time (``alm_bot.metrics_store``): requests by operation and
  state, outbox depth and oldest age, and the approval-wait, sync-duration and notice-lag histograms;
- counters of what this process did: Anaplan HTTP exchanges and 429s (an observer on the Anaplan
  client's transport), Slack API errors (a never-retrying retry handler on the Slack web client, which
  sees every answer and failure of every Slack call), watcher passes and lost leases (the watcher's
  `WatcherEvents`).

Never the library's global default registry: tests build many apps in one process, and each app's
counters must be its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import anyio
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alm_bot.metrics_hooks import LeaseQueue
from alm_bot.metrics_store import StoreCollector

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from alm_bot.services import Services

__all__ = ["Metrics", "metrics_route"]

SCRAPE_STORE_TIMEOUT: Final = 2.0
"""Seconds the store may take per scrape; Prometheus' default scrape timeout is 10 s."""


class Metrics:
    """The app's registry, its in-process counters and the store collector."""

    def __init__(self, services: Services) -> None:
        self._store = services.store
        self.registry = CollectorRegistry(auto_describe=True)
        self._store_figures = StoreCollector(services.ops.clock)
        self.registry.register(self._store_figures)
        self._scrape = anyio.Lock()
        self.anaplan_requests = Counter(
            "alm_bot_anaplan_requests",
            "HTTP exchanges with Anaplan, by status code (none: no answer)",
            ["status"],
            registry=self.registry,
        )
        self.anaplan_rate_limited = Counter(
            "alm_bot_anaplan_rate_limited", "Anaplan answers 429 Too Many Requests", registry=self.registry
        )
        self.slack_api_errors = Counter(
            "alm_bot_slack_api_errors",
            "Slack Web API calls that failed, by Slack's error code (http_NNN, connection)",
            ["error"],
            registry=self.registry,
        )
        self.watcher_ticks = Counter(
            "alm_bot_watcher_ticks", "Watcher passes finished", registry=self.registry
        )
        self.lease_steals = Counter(
            "alm_bot_watcher_lease_steals",
            "Leased rows another watcher took over before this one recorded them, by queue",
            ["queue"],
            registry=self.registry,
        )
        services.client.observe_responses(self.anaplan_answered)

    # --- hooks -----------------------------------------------------------------------------------

    def anaplan_answered(self, status: int | None) -> None:
        self.anaplan_requests.labels(status="none" if status is None else str(status)).inc()
        if status == 429:
            self.anaplan_rate_limited.inc()

    def ticked(self) -> None:
        self.watcher_ticks.inc()

    def lease_lost(self, queue: LeaseQueue) -> None:
        self.lease_steals.labels(queue=queue).inc()

    def watch_slack(self, client: AsyncWebClient) -> None:
        """Count every failed Slack call of ``client`` (first in line, so retried failures count too)."""
        client.retry_handlers.insert(0, _SlackErrorCounter(self.slack_api_errors))

    # --- scrape ----------------------------------------------------------------------------------

    async def respond(self, request: Request) -> Response:
        async with self._scrape:
            await self._store_figures.refresh(self._store, SCRAPE_STORE_TIMEOUT)
            body = generate_latest(self.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)


class _SlackErrorCounter(AsyncRetryHandler):
    """A retry handler that never retries: slack_sdk shows it every answer and failure; it counts errors."""

    def __init__(self, counter: Counter) -> None:
        super().__init__(max_retry_count=0)
        self._counter = counter

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        code = _slack_error(response, error)
        if code is not None:
            self._counter.labels(error=code).inc()
        return False


def _slack_error(response: HttpResponse | None, error: Exception | None) -> str | None:
    """Slack's error code for a failed call, or None when the call succeeded."""
    if error is not None:
        return "connection"
    if response is None:
        return None
    body = response.body or {}
    if response.status_code != 200:
        return str(body.get("error") or f"http_{response.status_code}")
    if body.get("ok") is False:
        return str(body.get("error") or "unknown")
    return None


def metrics_route(services: Services, slack_client: AsyncWebClient | None) -> Route:
    """The ``GET /metrics`` route for this app, with its hooks attached (call after the watcher starts)."""
    metrics = Metrics(services)
    if services.watcher is not None:
        services.watcher.observer = metrics
    if slack_client is not None:
        metrics.watch_slack(slack_client)
    return Route("/metrics", metrics.respond, methods=["GET"])
