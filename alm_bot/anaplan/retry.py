"""When and how long to wait before sending an idempotent request again.

``RetryPolicy`` is the knob; ``Retrier.run`` is the loop for requests that are safe to repeat (GETs,
the ``onlineStatus`` PUT, logins). Task-creating POSTs are *not* run through this loop: they have their
own rules in ``creation.py``, because repeating them blindly can start a second sync.

A tiny hand-written loop instead of ``stamina``: every wait must go through the injected ``sleep`` so
tests never really wait and can record the delays, and the loop must see the HTTP *response* (to honour
``Retry-After`` on a 429), not only exceptions.

Backoff is alm-bot's one schedule (`alm_bot.backoff.Backoff`), doubling with jitter and a cap: before
retry *n* the wait is drawn from ``[(1 - jitter) * d, d]``, ``d = min(max_delay, base_delay * 2 ** (n - 1))``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

import httpx2

from alm_bot.backoff import Backoff

__all__ = [
    "RETRYABLE_STATUSES",
    "Retrier",
    "RetryPolicy",
    "Sleep",
    "is_retryable_transport_error",
    "retry_after_seconds",
]

_log = logging.getLogger("alm_bot.anaplan")

Sleep = Callable[[float], Awaitable[object]]

RETRYABLE_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to repeat a request that failed transiently.

    ``attempts`` counts every try, the first included. Waits grow from ``base_delay`` and stop
    growing at ``max_delay``, which also caps a server's ``Retry-After``.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("RetryPolicy.jitter must be between 0 and 1")

    @property
    def schedule(self) -> Backoff:
        return Backoff(min(self.base_delay, self.max_delay), 2.0, self.max_delay, self.jitter)

    def backoff(self, retry_number: int) -> float:
        """The wait before retry ``retry_number`` (1 = the first retry)."""
        return self.schedule.delay(retry_number)

    def wait_before_retry(self, retry_number: int, response: httpx2.Response | None) -> float:
        """``Retry-After`` when the server sent one (capped at ``max_delay``), else the backoff."""
        hint = retry_after_seconds(response) if response is not None else None
        if hint is not None:
            return min(hint, self.max_delay)
        return self.backoff(retry_number)


def retry_after_seconds(response: httpx2.Response) -> float | None:
    """The ``Retry-After`` header in seconds (delta-seconds or an HTTP date), or None."""
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    sent = response.headers.get("date")
    now = parsedate_to_datetime(sent) if sent else None
    if now is None or when.tzinfo is None or now.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def is_retryable_transport_error(exc: httpx2.TransportError) -> bool:
    """Timeouts and network failures are transient; a bad URL or protocol misuse is not."""
    return isinstance(exc, httpx2.TimeoutException | httpx2.NetworkError | httpx2.RemoteProtocolError)


class Retrier:
    """Runs an idempotent exchange until it succeeds, fails for good, or the attempts run out."""

    def __init__(self, policy: RetryPolicy, sleep: Sleep) -> None:
        self.policy = policy
        self.sleep = sleep

    async def run(self, send: Callable[[], Awaitable[httpx2.Response]], label: str) -> httpx2.Response:
        """Return the last response (possibly an error status) or raise the last transport error.

        ``label`` names the request in log lines ("GET /models/…").
        """
        attempts = self.policy.attempts
        for attempt in range(1, attempts + 1):
            try:
                response = await send()
            except httpx2.TransportError as exc:
                if attempt == attempts or not is_retryable_transport_error(exc):
                    raise
                await self.pause(attempt, None, label, type(exc).__name__)
                continue
            if response.status_code not in RETRYABLE_STATUSES or attempt == attempts:
                return response
            await self.pause(attempt, response, label, f"HTTP {response.status_code}")
        raise AssertionError("unreachable: the last attempt always returns or raises")  # pragma: no cover

    async def pause(self, attempt: int, response: httpx2.Response | None, label: str, reason: str) -> None:
        """Log why ``label`` failed on ``attempt`` and sleep before the next try."""
        delay = self.policy.wait_before_retry(attempt, response)
        _log.info(
            "%s failed (%s); retry %d of %d in %.2f s",
            label,
            reason,
            attempt,
            self.policy.attempts - 1,
            delay,
        )
        await self.sleep(delay)
