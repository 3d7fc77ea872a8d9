"""Fixtures of the Slack front-end tests: ``stack`` is the test world (`tests.world`, the ``world``
fixture of ``tests/conftest.py``) under the name these tests were written with."""

from __future__ import annotations

import pytest

from tests.world import World


@pytest.fixture
def stack(world: World) -> World:
    """The bot with the sandbox defaults: approvers U0APPROVER1/U0APPROVER2, cards in C0APPROVALS."""
    return world
