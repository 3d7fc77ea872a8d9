"""Fixtures for the sandbox tests: a sandbox on a frozen clock, and raw HTTP clients into it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import pytest
from sandbox_calls import FROZEN_NOW, bearer

from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

EVERY_DETAIL = Fidelity(current_step="always", result_shapes="rich")
"""Every task shows ``currentStep`` and a result with both revision ids, so tests of other rules can
assert on one shape; test_sandbox_fidelity.py covers the documented sparse defaults and the mix."""


@pytest.fixture
def sandbox() -> Sandbox:
    """Time stands still unless a test advances it; the rate limit is out of the way."""
    return Sandbox(
        task_duration=3.0, rate_limit_per_second=None, clock=lambda: FROZEN_NOW, fidelity=EVERY_DETAIL
    )


@pytest.fixture
async def client(sandbox: Sandbox) -> AsyncIterator[httpx2.AsyncClient]:
    transport = httpx2.ASGITransport(create_app(sandbox))
    async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox") as http:
        yield http


@pytest.fixture
def admin(sandbox: Sandbox) -> dict[str, str]:
    """Authorization headers of the Workspace Administrator of FP&A."""
    return bearer(sandbox.token_for(seed.ADMIN_USER))


@pytest.fixture
def viewer(sandbox: Sandbox) -> dict[str, str]:
    """Authorization headers of a user who is Workspace Administrator nowhere."""
    return bearer(sandbox.token_for(seed.VIEWER_USER))
