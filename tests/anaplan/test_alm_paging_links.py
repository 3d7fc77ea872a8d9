"""``meta.paging.next`` is followed as Anaplan wrote it — but only to the configured API endpoint,
so the token never goes to another host."""

from __future__ import annotations

import httpx2
import pytest
from anaplan_fakes import API, TARGET, FakeAnaplan, envelope, revision

from alm_bot.anaplan import AlmClient

pytestmark = pytest.mark.anyio

REVISIONS = f"/models/{TARGET}/alm/revisions"
SECOND = "BBBB0000BBBB1111CCCC2222DDDD3333"


def pages(next_link: str) -> list[httpx2.Response]:
    paging = {"currentPageSize": 1, "offset": 0, "totalSize": 2, "next": next_link}
    return [
        envelope("revisions", [revision()], meta={"paging": paging}),
        envelope(
            "revisions",
            [revision(SECOND, "v2")],
            meta={"paging": {"currentPageSize": 1, "offset": 1, "totalSize": 2}},
        ),
    ]


async def test_the_next_link_is_requested_exactly_as_anaplan_sent_it(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    link = f"{API}{REVISIONS}?limit=1&offset=1&cursor=opaque"
    fake.on("GET", REVISIONS, *pages(link))

    history = await alm.get_revisions()

    assert [r.name for r in history] == ["v1", "v2"]
    assert str(fake.api_calls("GET", REVISIONS)[1].url) == link


async def test_a_next_link_to_another_host_is_not_followed_the_offset_is_used(
    fake: FakeAnaplan, alm: AlmClient
) -> None:
    fake.on("GET", REVISIONS, *pages(f"https://elsewhere.example{REVISIONS}?offset=1"))

    history = await alm.get_revisions()

    second = fake.api_calls("GET", REVISIONS)[1]
    assert [r.name for r in history] == ["v1", "v2"]
    assert second.url.host == httpx2.URL(API).host
    assert second.url.params["offset"] == "1"
    assert all(r.url.host != "elsewhere.example" for r in fake.requests)
