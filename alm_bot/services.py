"""The composition root: builds the Anaplan client, store, operations and watcher from `Settings`.

Front ends never build these themselves: `serve`, `mcp` and the CLI open the services here, add
their own notifier, and close everything on the way out. With a `Sandbox`, the Anaplan client talks
to the in-process emulator through an ASGI transport — no port, no network.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx2

from alm_bot.anaplan import AnaplanClient, BasicAuth, CertificateAuth, Credentials
from alm_bot.anaplan.oauth import OAuthAuth
from alm_bot.changes import Changes
from alm_bot.config import Settings
from alm_bot.errors import ConfigError
from alm_bot.notify import Notifier
from alm_bot.operations import Operations, utc_now
from alm_bot.sandbox.defaults import sandbox_defaults
from alm_bot.store import Store
from alm_bot.watcher import Watcher

if TYPE_CHECKING:
    from alm_bot.sandbox import Sandbox

__all__ = [
    "SANDBOX_API_URL",
    "SANDBOX_AUTH_URL",
    "Services",
    "anaplan_client",
    "open_anaplan_client",
    "open_services",
    "sandbox_defaults",
]

SANDBOX_API_URL = "http://sandbox.internal/2/0"
SANDBOX_AUTH_URL = "http://sandbox.internal"


@dataclass
class Services:
    """Everything a front end needs; one per process."""

    settings: Settings
    client: AnaplanClient
    store: Store
    ops: Operations
    sandbox: Sandbox | None = None
    watcher: Watcher | None = None

    @property
    def changes(self) -> Changes:
        """The change event the lifecycle publishes after each commit (waiters subscribe here)."""
        return self.ops.changes

    def start_watcher(self, notifier: Notifier, **options: Any) -> Watcher:
        """Create the watcher with the front end's notifier; new outbox rows wake it at once."""
        self.watcher = Watcher(self.ops.watching, notifier, clock=self.ops.clock, **options)
        self.ops.changes.subscribe(self.watcher.wake)
        return self.watcher


def _auth(settings: Settings, store: Store | None) -> Credentials:
    if settings.anaplan_oauth_client_id and settings.secret_key and store is not None:
        from alm_bot.store.oauth_grants import DatabaseGrantStore

        return OAuthAuth(
            settings.anaplan_oauth_client_id,
            DatabaseGrantStore(store, settings.anaplan_oauth_client_id, settings.secret_key),
            oauth_url=settings.anaplan_oauth_url,
            client_secret=settings.anaplan_oauth_client_secret,
        )
    if settings.anaplan_certificate:
        password = settings.anaplan_private_key_password
        return CertificateAuth(
            settings.anaplan_certificate,
            settings.anaplan_private_key,
            password.get_secret_value() if password else None,
            cert_format=settings.anaplan_cert_format,
        )
    if settings.anaplan_username and settings.anaplan_password:
        return BasicAuth(settings.anaplan_username, settings.anaplan_password.get_secret_value())
    raise ConfigError(
        [
            "Anaplan credentials are missing: set ANAPLAN_USERNAME and ANAPLAN_PASSWORD, or "
            "ANAPLAN_CERTIFICATE (and ANAPLAN_PRIVATE_KEY), or ANAPLAN_OAUTH_CLIENT_ID and "
            "ALM_BOT_SECRET_KEY (or run with --sandbox to try alm-bot without Anaplan)."
        ]
    )


def anaplan_client(
    settings: Settings, sandbox: Sandbox | None = None, *, store: Store | None = None
) -> AnaplanClient:
    """The Anaplan client for these settings, or for the in-process sandbox; use it as a context manager.

    OAuth keeps its rotating refresh token in ``store`` (the database), so it needs one.
    """
    if sandbox is None:
        return AnaplanClient(
            auth=_auth(settings, store),
            api_url=settings.anaplan_api_url,
            auth_url=settings.anaplan_auth_url,
            timeout=settings.anaplan.timeout_seconds,
            proxy=settings.anaplan_proxy,
            ca_bundle=settings.anaplan_ca_bundle,
        )
    from alm_bot.sandbox import create_app, seed

    return AnaplanClient(
        auth=BasicAuth(seed.ADMIN_USER, seed.PASSWORD),
        api_url=SANDBOX_API_URL,
        auth_url=SANDBOX_AUTH_URL,
        transport=httpx2.ASGITransport(app=create_app(sandbox)),
    )


@asynccontextmanager
async def open_anaplan_client(settings: Settings) -> AsyncIterator[AnaplanClient]:
    """An Anaplan client with the database it needs for an OAuth login (``alm-bot check``)."""
    store = Store(settings.database_url)
    try:
        async with anaplan_client(settings, store=store) as client:
            yield client
    finally:
        await store.dispose()


@asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    sandbox: Sandbox | None = None,
    upgrade: bool = True,
    clock: Callable[[], datetime] = utc_now,
) -> AsyncIterator[Services]:
    """Open client and store (applying migrations), yield the services, close everything after.

    ``clock`` (UTC, aware) is what the core, store and watcher call "now"; tests move it forward.
    """
    store = Store(settings.database_url, clock=clock)
    client = anaplan_client(settings, sandbox, store=store)
    try:
        if upgrade:
            await store.upgrade()
        changes = Changes()
        ops = Operations(client=client, store=store, settings=settings, clock=clock, changes=changes)
        yield Services(settings=settings, client=client, store=store, ops=ops, sandbox=sandbox)
    finally:
        await client.aclose()
        await store.dispose()
