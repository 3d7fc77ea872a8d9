"""Who is who in Slack: approver-group memberships and display names, cached, failing safe."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.slack.groups import ApproverGroups
from alm_bot.slack.people import People
from tools.fake_slack import FakeSlack

pytestmark = pytest.mark.anyio


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(bot_token="xoxb-test") as fake:
        fake.usergroups["S0APPROVERS"] = ["U0GRACE"]
        fake.usergroups["S0OTHERS"] = ["U0GRACE", "U0LINUS"]
        fake.add_user("U0GRACE", "grace", real_name="Grace Hopper")
        yield fake


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token="xoxb-test", base_url=fake.api_url)


async def test_memberships_are_the_configured_groups_the_user_is_in(client: AsyncWebClient) -> None:
    groups = ApproverGroups(client, ["S0APPROVERS", "S0OTHERS"])
    assert await groups.memberships("U0GRACE") == {"S0APPROVERS", "S0OTHERS"}
    assert await groups.memberships("U0LINUS") == {"S0OTHERS"}
    assert await groups.memberships("U0NOBODY") == frozenset()


async def test_members_are_cached_for_a_while_then_looked_up_again(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    clock = Clock()
    groups = ApproverGroups(client, ["S0APPROVERS"], ttl_seconds=300, clock=clock)
    assert await groups.memberships("U0LINUS") == frozenset()
    fake.usergroups["S0APPROVERS"].append("U0LINUS")
    clock.now += 299
    assert await groups.memberships("U0LINUS") == frozenset()
    clock.now += 2
    assert await groups.memberships("U0LINUS") == {"S0APPROVERS"}
    assert len(fake.of("usergroups.users.list")) == 2


async def test_a_group_that_cannot_be_resolved_means_not_a_member_and_is_logged(
    fake: FakeSlack, client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    groups = ApproverGroups(client, ["S0APPROVERS"])
    fake.fail_next("usergroups.users.list", status=500)
    assert await groups.memberships("U0GRACE") == frozenset()
    assert "cannot resolve approver group S0APPROVERS" in caplog.text
    # Not cached: the next click asks Slack again and gets the truth.
    assert await groups.memberships("U0GRACE") == {"S0APPROVERS"}


async def test_an_unknown_group_means_not_a_member(client: AsyncWebClient) -> None:
    assert await ApproverGroups(client, ["S0GONE"]).memberships("U0GRACE") == frozenset()


async def test_a_display_name_comes_from_the_profile_and_is_cached(
    fake: FakeSlack, client: AsyncWebClient
) -> None:
    people = People(client)
    actor = await people.actor("U0GRACE", "gh")
    assert (actor.id, actor.name, actor.origin) == ("U0GRACE", "grace", "slack")
    assert await people.name("U0GRACE") == "grace"
    assert len(fake.of("users.info")) == 1


async def test_a_failed_name_lookup_falls_back_to_what_slack_sent(
    client: AsyncWebClient, caplog: pytest.LogCaptureFixture
) -> None:
    assert await People(client).name("U0UNKNOWN", "mystery") == "mystery"
    assert "users.info for U0UNKNOWN failed" in caplog.text
