"""Shared test fixtures: the anyio backend (asyncio), a database of each kind, and the test world.

``world`` is `tests.world.open_world` on a fresh SQLite file: sandbox, store, core, fake Slack and
the Bolt app (Slack requests signed and dispatched in-process). Options of `open_world` go in a
marker, e.g. ``@pytest.mark.world(task_duration=10, approval={"approvers": ["U0APPROVER1"]})``;
``@pytest.mark.world(slack=False)`` builds the core alone with a `RecordingNotifier`.
``world_on_each_database`` is the same world once on SQLite and once on PostgreSQL (``database_url``,
from `tests.databases`; PostgreSQL skipped unless ``ALM_BOT_TEST_POSTGRES_URL`` is set). ``core`` is
that world with ``slack=False``: the core alone, on each database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.databases import database_url, sqlite_url
from tests.world import World, open_world

__all__ = ["anyio_backend", "core", "database_url", "sqlite_url", "world", "world_on_each_database"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _options(request: pytest.FixtureRequest) -> dict[str, Any]:
    marker = request.node.get_closest_marker("world")
    return dict(marker.kwargs) if marker else {}


@pytest.fixture
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    """The test world (see `tests.world`) on SQLite, configured by the test's ``world`` marker."""
    async with open_world(tmp_path, **_options(request)) as opened:
        yield opened


@pytest.fixture
async def world_on_each_database(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> AsyncIterator[World]:
    """The test world on SQLite, then on PostgreSQL (a database of its own)."""
    async with open_world(tmp_path, database_url=database_url, **_options(request)) as opened:
        yield opened


@pytest.fixture
async def core(request: pytest.FixtureRequest, tmp_path: Path, database_url: str) -> AsyncIterator[World]:
    """The core alone (``slack=False``, a `RecordingNotifier`) on SQLite, then on PostgreSQL."""
    options = {"slack": False, **_options(request)}
    async with open_world(tmp_path, database_url=database_url, **options) as opened:
        yield opened
