"""Fixtures for the Anaplan client tests: a fake Anaplan, fake time, a client wired to both."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from anaplan_fakes import FakeAnaplan, FakeTime, make_client

from alm_bot.anaplan import AlmClient, AnaplanClient


@pytest.fixture
def fake() -> FakeAnaplan:
    return FakeAnaplan()


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def client(fake: FakeAnaplan, fake_time: FakeTime) -> AsyncIterator[AnaplanClient]:
    async with make_client(fake, fake_time) as anaplan:
        yield anaplan


@pytest.fixture
def alm(client: AnaplanClient) -> AlmClient:
    from anaplan_fakes import TARGET

    return client.alm(TARGET)
