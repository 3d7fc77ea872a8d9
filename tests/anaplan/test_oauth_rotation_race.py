"""Two replicas refresh one rotating OAuth refresh token at the same moment, deterministically: the one
Anaplan refuses (``invalid_grant``) waits for the winner to store its grant and uses it, instead of
declaring the login gone. ``SharedGrants`` is a ``GrantStore`` both replicas share, whose writes can
be held back — the window between Anaplan's answer to the winner and the winner's commit."""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
import httpx2
import pytest
from pydantic import SecretStr

from alm_bot.anaplan import AnaplanClient, OAuthAuth, StoredGrant, TokenGrant
from alm_bot.errors import LoginRequired
from alm_bot.sandbox import Sandbox, create_app, seed

pytestmark = pytest.mark.anyio


class SharedGrants:
    """An in-memory ``GrantStore`` with compare-and-set; ``hold`` delays every write until released."""

    def __init__(self, grant: TokenGrant) -> None:
        self.current = StoredGrant(grant, 1)
        self.hold = anyio.Event()
        self.hold.set()

    async def load(self) -> StoredGrant | None:
        return self.current

    async def replace(self, grant: TokenGrant, expected_version: int | None) -> StoredGrant | None:
        await self.hold.wait()
        if expected_version is not None and expected_version != self.current.version:
            return None
        self.current = StoredGrant(grant, self.current.version + 1)
        return self.current


def expired_grant(sandbox: Sandbox) -> TokenGrant:
    """A grant whose access token is spent and whose refresh token the sandbox knows."""
    user = sandbox.world.user_by_email(seed.ADMIN_USER)
    assert user is not None
    refresh = sandbox.oauth.issue_refresh(user, seed.OAUTH_CLIENT_ID, sandbox.now())
    return TokenGrant(SecretStr("spent"), SecretStr(refresh), expires_at=time.time() - 1)


def replica(sandbox: Sandbox, grants: SharedGrants, sleep: object = anyio.sleep) -> AnaplanClient:
    return AnaplanClient(
        auth=OAuthAuth(seed.OAUTH_CLIENT_ID, grants, oauth_url="http://sandbox.test"),
        api_url="http://sandbox.test/2/0",
        auth_url="http://sandbox.test",
        transport=httpx2.ASGITransport(create_app(sandbox)),
        sleep=sleep,  # type: ignore[arg-type]
    )


async def test_the_loser_of_a_rotation_race_uses_the_winners_grant() -> None:
    sandbox = Sandbox(rate_limit_per_second=None)
    grants = SharedGrants(expired_grant(sandbox))
    waited: list[float] = []

    async def loser_sleep(seconds: float) -> None:
        waited.append(seconds)
        if seconds:  # the loser now waits for the winner: let the winner's write through
            grants.hold.set()
        await anyio.lowlevel.checkpoint()

    async with replica(sandbox, grants) as winner, replica(sandbox, grants, loser_sleep) as loser:
        grants.hold = anyio.Event()  # the winner's write is held until the loser has been refused
        async with anyio.create_task_group() as both:
            both.start_soon(winner.list_models)
            await anyio.wait_all_tasks_blocked()
            models = await loser.list_models()

    token_calls = [e.status for e in sandbox.request_log if e.path == "/oauth/token"]
    assert len(models) == 6
    assert token_calls == [200, 400], (
        "one rotation; the loser's refresh was refused, then it used the winner's"
    )
    assert grants.current.version == 2
    assert waited[:2] == [0.0, 0.5]


async def test_without_a_winner_the_refused_login_is_reported_once_and_not_retried() -> None:
    sandbox = Sandbox(rate_limit_per_second=None)
    grant = expired_grant(sandbox)
    sandbox.oauth.refresh_tokens.clear()  # revoked
    grants = SharedGrants(grant)
    waited: list[float] = []

    async def no_wait(seconds: float) -> None:
        waited.append(seconds)

    async with replica(sandbox, grants, no_wait) as alone:
        for _ in range(3):
            with pytest.raises(LoginRequired, match="Run `alm-bot anaplan login` again"):
                await alone.list_models()

    assert [e.path for e in sandbox.request_log] == ["/oauth/token"]
    assert waited == [0.0, 0.5, 1.0, 2.0], "it looked for a winner for a few seconds, once"
