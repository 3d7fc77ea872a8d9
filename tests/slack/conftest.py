"""Fixtures of the Slack front-end tests: the whole stack (fake Slack, sandbox, SQLite, uvicorn)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_stack import SlackStack, open_stack


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[SlackStack]:
    """The bot with the sandbox defaults: approvers U0APPROVER1/U0APPROVER2, cards in C0APPROVALS."""
    async with open_stack(tmp_path) as stack:
        yield stack
