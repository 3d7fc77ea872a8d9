"""``AnaplanClient``: one per process — the connection pool, the token, discovery, and ``alm(model_id)``.

Regional tenants are just other URLs: ``api_url`` (``https://{region}.api.anaplan.com/2/0``) and
``auth_url`` (``https://{region}.auth.anaplan.com``), each possibly with a path prefix (the sandbox
serves ``http://127.0.0.1:8000/sandbox/2/0``). ``sleep`` and ``clock`` are injectable and used for
every backoff, poll and token deadline, so tests run without real waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Final, Self

import anyio
import httpx2

from alm_bot.anaplan import validation as check
from alm_bot.anaplan.alm import AlmClient
from alm_bot.anaplan.auth import Credentials
from alm_bot.anaplan.envelopes import ModelList, OneModel, Paging, WorkspaceList
from alm_bot.anaplan.error_mapping import Endpoint
from alm_bot.anaplan.models import Model, Workspace
from alm_bot.anaplan.paging import read_all_pages
from alm_bot.anaplan.polling import PollPolicy
from alm_bot.anaplan.retry import RetryPolicy, Sleep
from alm_bot.anaplan.transport import AnaplanHttp

__all__ = ["DEFAULT_API_URL", "DEFAULT_AUTH_URL", "AnaplanClient"]

DEFAULT_API_URL: Final = "https://api.anaplan.com/2/0"
DEFAULT_AUTH_URL: Final = "https://auth.anaplan.com"
_DEFAULT_RETRY: Final = RetryPolicy()
_DEFAULT_POLL: Final = PollPolicy()


class AnaplanClient:
    """The entry point to Anaplan: discovery calls and an ``AlmClient`` per model.

    Use it as an async context manager, or call ``aclose()`` when done. One instance serves any
    number of concurrent calls over one connection pool and one token.
    """

    def __init__(
        self,
        *,
        auth: Credentials,
        api_url: str = DEFAULT_API_URL,
        auth_url: str = DEFAULT_AUTH_URL,
        timeout: float = 30.0,
        retry: RetryPolicy = _DEFAULT_RETRY,
        poll: PollPolicy = _DEFAULT_POLL,
        transport: httpx2.AsyncBaseTransport | None = None,
        sleep: Sleep = anyio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._poll = poll
        self._http = AnaplanHttp(
            credentials=auth,
            api_url=api_url,
            auth_url=auth_url,
            timeout=timeout,
            retry=retry,
            sleep=sleep,
            clock=clock,
            transport=transport,
        )

    def __repr__(self) -> str:
        return f"AnaplanClient(api_url={self._http.api_url!r})"

    def observe_responses(self, observer: Callable[[int | None], None]) -> None:
        """Call ``observer(status)`` after every HTTP exchange (``None``: no answer); for metrics."""
        self._http.observer = observer

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def login(self) -> None:
        """Authenticate now (health checks, ``alm-bot check``); calls otherwise log in on first use."""
        await self._http.tokens.login()

    def alm(self, model_id: str) -> AlmClient:
        """The ALM operations of ``model_id`` (the target of syncs and reports)."""
        return AlmClient(self._http, check.anaplan_id("model_id", model_id), self._poll)

    async def list_workspaces(self) -> list[Workspace]:
        """Every workspace the Anaplan user can see."""
        endpoint = Endpoint("/workspaces", "list the workspaces")

        async def fetch_page(offset: int, limit: int) -> tuple[Sequence[Workspace], Paging | None]:
            page = await self._http.get_json(
                endpoint, WorkspaceList, params={"limit": limit, "offset": offset}
            )
            return page.workspaces, page.meta.paging if page.meta else None

        return await read_all_pages(fetch_page)

    async def list_models(self, workspace_id: str | None = None) -> list[Model]:
        """Every model the user can see, or only those of ``workspace_id``, with model details."""
        if workspace_id is None:
            endpoint = Endpoint("/models", "list the models")
        else:
            workspace = check.anaplan_id("workspace_id", workspace_id)
            endpoint = Endpoint(
                f"/workspaces/{workspace}/models",
                f"list the models of workspace {workspace}",
                missing="workspace",
            )

        async def fetch_page(offset: int, limit: int) -> tuple[Sequence[Model], Paging | None]:
            params: dict[str, str | int] = {"modelDetails": "true", "limit": limit, "offset": offset}
            page = await self._http.get_json(endpoint, ModelList, params=params)
            return page.models, page.meta.paging if page.meta else None

        return await read_all_pages(fetch_page)

    async def get_model(self, model_id: str) -> Model:
        """One model with its details (``activeState`` tells its mode and whether it is online)."""
        model = check.anaplan_id("model_id", model_id)
        endpoint = Endpoint(f"/models/{model}", f"read model {model}")
        return (await self._http.get_json(endpoint, OneModel, params={"modelDetails": "true"})).model
