"""Retrying idempotent calls: which failures are retried, how long the client waits (recorded by the
injected sleep), Retry-After, the cap, and what is raised when the retries run out."""

from __future__ import annotations

import httpx2
import pytest
from anaplan_fakes import TARGET, FakeAnaplan, FakeTime, envelope, failure, make_client, revision

from alm_bot.anaplan import RetryPolicy
from alm_bot.errors import (
    AnaplanError,
    AnaplanUnavailable,
    InvalidRequest,
    ModelArchived,
    NotFound,
    PermissionDenied,
    RateLimited,
)

pytestmark = pytest.mark.anyio

REVISIONS = f"/models/{TARGET}/alm/revisions"
LATEST = f"/models/{TARGET}/alm/latestRevision"
OK = envelope("revisions", [revision()])


async def test_a_503_is_retried_with_growing_waits_until_it_succeeds(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", LATEST, failure(503), failure(503), OK)
    async with make_client(fake, fake_time) as client:
        latest = await client.alm(TARGET).get_latest_revision()

    assert latest is not None
    assert fake_time.waits == [0.5, 1.0]
    assert len(fake.api_calls()) == 3


@pytest.mark.parametrize("status", [500, 502, 504])
async def test_other_transient_server_errors_are_retried(
    fake: FakeAnaplan, fake_time: FakeTime, status: int
) -> None:
    fake.on("GET", LATEST, failure(status), OK)
    async with make_client(fake, fake_time) as client:
        await client.alm(TARGET).get_latest_revision()

    assert len(fake.api_calls()) == 2


async def test_backoff_doubles_then_stops_at_the_cap_and_the_attempts_are_bounded(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", LATEST, failure(503, "Service Unavailable"))
    policy = RetryPolicy(attempts=7, base_delay=0.5, max_delay=3.0, jitter=0.0)
    async with make_client(fake, fake_time, retry=policy) as client:
        with pytest.raises(AnaplanUnavailable) as caught:
            await client.alm(TARGET).get_latest_revision()

    assert fake_time.waits == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert len(fake.api_calls()) == 7
    assert caught.value.status == 503
    assert caught.value.anaplan_message == "Service Unavailable"


def test_jittered_backoff_stays_within_its_band_and_grows_until_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay=0.5, max_delay=30.0, jitter=0.5)
    for _ in range(200):
        waits = [policy.backoff(n) for n in range(1, 10)]
        for n, wait in enumerate(waits, start=1):
            ceiling = min(30.0, 0.5 * 2 ** (n - 1))
            assert ceiling / 2 <= wait <= ceiling
        uncapped = waits[:6]  # 0.5 … 16 s: each band starts where the previous one ends
        assert uncapped == sorted(uncapped)
    assert len({policy.backoff(9) for _ in range(20)}) > 1  # jitter still spreads clients at the cap


async def test_a_429_waits_exactly_the_retry_after_seconds(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    fake.on("GET", LATEST, httpx2.Response(429, headers={"Retry-After": "7"}), OK)
    async with make_client(fake, fake_time) as client:
        await client.alm(TARGET).get_latest_revision()

    assert fake_time.waits == [7.0]


async def test_a_retry_after_given_as_an_http_date_is_honoured(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    headers = {"Retry-After": "Wed, 21 Oct 2026 07:28:12 GMT", "Date": "Wed, 21 Oct 2026 07:28:00 GMT"}
    fake.on("GET", LATEST, httpx2.Response(429, headers=headers), OK)
    async with make_client(fake, fake_time) as client:
        await client.alm(TARGET).get_latest_revision()

    assert fake_time.waits == [12.0]


async def test_a_huge_retry_after_is_capped(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    fake.on("GET", LATEST, httpx2.Response(429, headers={"Retry-After": "3600"}), OK)
    async with make_client(fake, fake_time, retry=RetryPolicy(max_delay=20.0, jitter=0.0)) as client:
        await client.alm(TARGET).get_latest_revision()

    assert fake_time.waits == [20.0]


async def test_a_429_without_retry_after_uses_the_backoff(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    fake.on("GET", LATEST, httpx2.Response(429), httpx2.Response(429), OK)
    async with make_client(fake, fake_time) as client:
        await client.alm(TARGET).get_latest_revision()

    assert fake_time.waits == [0.5, 1.0]


async def test_a_429_that_outlives_the_retries_raises_rate_limited_with_the_hint(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", LATEST, httpx2.Response(429, headers={"Retry-After": "9"}))
    async with make_client(fake, fake_time, retry=RetryPolicy(attempts=2)) as client:
        with pytest.raises(RateLimited) as caught:
            await client.alm(TARGET).get_latest_revision()

    assert caught.value.retry_after == 9.0
    assert caught.value.status == 429


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, InvalidRequest),
        (403, PermissionDenied),
        (404, NotFound),
        (409, AnaplanError),
        (422, ModelArchived),
    ],
)
async def test_client_errors_are_never_retried(
    fake: FakeAnaplan, fake_time: FakeTime, status: int, error: type[AnaplanError]
) -> None:
    fake.on("GET", LATEST, failure(status, "no"))
    async with make_client(fake, fake_time) as client:
        with pytest.raises(error):
            await client.alm(TARGET).get_latest_revision()

    assert len(fake.api_calls()) == 1
    assert fake_time.waits == []


async def test_a_connection_error_is_retried(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("connection refused", request=request)

    fake.on("GET", LATEST, refuse, OK)
    async with make_client(fake, fake_time) as client:
        assert await client.alm(TARGET).get_latest_revision() is not None

    assert fake_time.waits == [0.5]


async def test_read_timeouts_that_outlive_the_retries_say_a_dormant_model_may_be_loading(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    def time_out(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ReadTimeout("timed out", request=request)

    fake.on("GET", LATEST, time_out)
    async with make_client(fake, fake_time, retry=RetryPolicy(attempts=3, jitter=0.0)) as client:
        with pytest.raises(AnaplanUnavailable, match="dormant model may still be loading") as caught:
            await client.alm(TARGET).get_latest_revision()

    assert len(fake.api_calls()) == 3
    assert caught.value.status is None
    assert caught.value.path == LATEST


async def test_the_online_status_put_is_retried_because_it_is_idempotent(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("PUT", f"/models/{TARGET}/onlineStatus", failure(502), httpx2.Response(204))
    async with make_client(fake, fake_time) as client:
        await client.alm(TARGET).change_model_status("online")

    assert len(fake.api_calls("PUT")) == 2


async def test_a_failed_page_of_a_paged_list_is_retried_on_its_own(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    paging = {"paging": {"currentPageSize": 1, "offset": 0, "totalSize": 2}}
    second = revision("B" * 32, "v2")
    fake.on(
        "GET",
        REVISIONS,
        envelope("revisions", [revision()], meta=paging),
        failure(503),
        envelope("revisions", [second], meta=paging),
    )
    async with make_client(fake, fake_time) as client:
        revisions = await client.alm(TARGET).get_revisions()

    assert [r.name for r in revisions] == ["v1", "v2"]
    assert [r.url.params["offset"] for r in fake.api_calls()] == ["0", "1", "1"]
