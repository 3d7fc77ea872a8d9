"""``alm-bot anaplan login``: log alm-bot in to Anaplan with OAuth (device grant) and store the grant.

Prints the verification URL and the user code, waits while the person approves in a browser, then
stores the access and refresh tokens (encrypted with ``ALM_BOT_SECRET_KEY``) in the database, where
every ``alm-bot serve`` replica finds them and keeps them fresh. Run it again whenever alm-bot says
the login is gone (revoked or expired refresh token).
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
import httpx2

from alm_bot.anaplan.device_login import DeviceLogin
from alm_bot.anaplan.oauth import OAuthAuth, StoredGrant
from alm_bot.anaplan.retry import Sleep
from alm_bot.anaplan.transport import Network
from alm_bot.config import Settings
from alm_bot.errors import AlmBotError

__all__ = ["log_in", "run_anaplan_login"]


def run_anaplan_login(settings: Settings) -> int:
    anyio.run(log_in, settings)
    return 0


async def log_in(
    settings: Settings,
    *,
    echo: Callable[[str], object] = print,
    sleep: Sleep = anyio.sleep,
    transport: httpx2.AsyncBaseTransport | None = None,
) -> StoredGrant:
    """The whole device login; returns what was stored."""
    client_id, key = settings.anaplan_oauth_client_id, settings.secret_key
    if client_id is None or key is None:
        raise AlmBotError(
            "alm-bot anaplan login needs ANAPLAN_OAUTH_CLIENT_ID (a device-grant OAuth client registered in "
            "Anaplan Administration) and ALM_BOT_SECRET_KEY (to encrypt the stored tokens)."
        )
    from alm_bot.store import Store
    from alm_bot.store.oauth_grants import DatabaseGrantStore

    store = Store(settings.database_url)
    try:
        await store.upgrade()
        grants = DatabaseGrantStore(store, client_id, key)
        auth = OAuthAuth(
            client_id,
            grants,
            oauth_url=settings.anaplan_oauth_url,
            client_secret=settings.anaplan_oauth_client_secret,
        )
        network = Network(settings.anaplan_proxy, settings.anaplan_ca_bundle).client_options()
        timeout = httpx2.Timeout(settings.anaplan.timeout_seconds)
        async with httpx2.AsyncClient(transport=transport, timeout=timeout, **network) as http:
            login = DeviceLogin(auth, http, sleep=sleep)
            code = await login.start()
            echo(f"To log alm-bot in to Anaplan, open {code.verification_uri}")
            echo(f"and enter the code {code.user_code}")
            if code.verification_uri_complete:
                echo(f"(or open {code.verification_uri_complete})")
            echo(f"Waiting for the approval (the code expires in {code.expires_in / 60:.0f} minutes)…")
            grant = await login.wait(code)
        stored = await grants.replace(grant, None)
        if stored is None:  # pragma: no cover - two people logging in at the very same moment
            raise AlmBotError("Another login was stored at the same moment; run alm-bot anaplan login again.")
        echo(f"Logged in. The OAuth tokens are stored (encrypted) in the database, version {stored.version}.")
        return stored
    finally:
        await store.dispose()
