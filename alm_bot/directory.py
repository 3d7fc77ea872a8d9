"""The model directory: turns what a person types (alias, id or name) into one Anaplan model.

People name models by configured alias (`fpa-prod`), by Anaplan id (32 hex) or by exact Anaplan
name (`FP&A PROD`, case-insensitive). The list of models is fetched from Anaplan and cached for a
short time, so a busy channel does not cost one discovery call per command. A reference that
matches nothing, or several models, is refused with the closest candidates, so the user can fix
the typo instead of guessing.
"""

from __future__ import annotations

import difflib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import anyio

from alm_bot.anaplan import AnaplanClient, Model
from alm_bot.config import Settings
from alm_bot.errors import ModelNotResolved, NotFound
from alm_bot.policy import needs_approval

__all__ = ["ModelDirectory", "ModelInfo"]

_HEX32 = re.compile(r"^[0-9A-Fa-f]{32}$")


@dataclass(frozen=True)
class ModelInfo:
    """A model as alm-bot presents it: Anaplan's facts plus our alias and protection."""

    id: str
    name: str
    alias: str | None
    workspace_id: str
    workspace_name: str
    active_state: str
    mode: str
    online: bool
    protected: bool

    @property
    def label(self) -> str:
        """`FP&A PROD (fpa-prod)`: the name people know, with the alias they type."""
        return f"{self.name} ({self.alias})" if self.alias else self.name


class ModelDirectory:
    """Resolves model references against the configured aliases and Anaplan's model list."""

    def __init__(
        self,
        client: AnaplanClient,
        settings: Settings,
        *,
        ttl_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._aliases = settings.models
        self._ttl = ttl_seconds
        self._clock = clock
        self._models: list[Model] = []
        self._fetched_at: float | None = None
        self._lock = anyio.Lock()

    async def list_models(self, text_filter: str | None = None) -> list[ModelInfo]:
        """Every model the Anaplan user can see, optionally filtered by a substring of name or alias."""
        infos = [self._info(m) for m in await self._all_models()]
        if text_filter:
            needle = text_filter.casefold()
            infos = [i for i in infos if needle in i.name.casefold() or needle in (i.alias or "").casefold()]
        return sorted(infos, key=lambda i: (i.workspace_name.casefold(), i.name.casefold()))

    async def resolve(self, reference: str) -> ModelInfo:
        """One model for this alias, id or exact name — or `ModelNotResolved` with suggestions."""
        ref = reference.strip()
        if not ref:
            raise ModelNotResolved("No model given. Name a model by alias, id or name.")
        configured = self._aliases.get(ref) or self._aliases.get(ref.casefold())
        model_id = configured.id if configured else (ref if _HEX32.match(ref) else None)
        if model_id is not None:
            return await self._by_id(model_id, ref)
        return await self._by_name(ref)

    def invalidate(self) -> None:
        """Forget the cached model list (after a change of mode or online status)."""
        self._fetched_at = None

    async def refresh_one(self, model_id: str) -> ModelInfo:
        """The model's current facts straight from Anaplan (for decisions that must not use a cache)."""
        return self._info(await self._client.get_model(model_id))

    async def _by_id(self, model_id: str, ref: str) -> ModelInfo:
        for model in await self._all_models():
            if model.id.upper() == model_id.upper():
                return self._info(model)
        try:
            return self._info(await self._client.get_model(model_id.upper()))
        except NotFound:
            raise ModelNotResolved(
                f"{ref} is not a model this Anaplan user can see (id {model_id}). "
                "Check the id, or that the user has access.",
                reference=ref,
            ) from None

    async def _by_name(self, ref: str) -> ModelInfo:
        models = await self._all_models()
        matches = [m for m in models if m.name.casefold() == ref.casefold()]
        if len(matches) == 1:
            return self._info(matches[0])
        if len(matches) > 1:
            ids = [f"{m.name} in {m.current_workspace_name} ({m.id})" for m in matches]
            raise ModelNotResolved(
                f"{ref} names {len(matches)} models: {'; '.join(ids)}. "
                "Use the model id, or configure an alias.",
                reference=ref,
                candidates=[m.id for m in matches],
            )
        raise self._unknown(ref, models)

    def _unknown(self, ref: str, models: list[Model]) -> ModelNotResolved:
        names = list(self._aliases) + [m.name for m in models]
        folded = {n.casefold(): n for n in names}
        close = [folded[c] for c in difflib.get_close_matches(ref.casefold(), list(folded), n=3, cutoff=0.6)]
        hint = f" — did you mean {' or '.join(close)}?" if close else "."
        return ModelNotResolved(
            f"{ref} is not an alias, model id or model name{hint}",
            reference=ref,
            candidates=close,
        )

    async def _all_models(self) -> list[Model]:
        now = self._clock()
        if self._fetched_at is not None and now - self._fetched_at < self._ttl:
            return self._models
        async with self._lock:
            if self._fetched_at is None or self._clock() - self._fetched_at >= self._ttl:
                self._models = await self._client.list_models()
                self._fetched_at = self._clock()
        return self._models

    def _info(self, model: Model) -> ModelInfo:
        return ModelInfo(
            id=model.id,
            name=model.name,
            alias=self._settings.alias_of(model.id),
            workspace_id=model.current_workspace_id,
            workspace_name=model.current_workspace_name,
            active_state=model.active_state,
            mode=model.mode,
            online=model.is_online,
            protected=needs_approval(self._settings.configured_model(model.id), model.active_state),
        )
