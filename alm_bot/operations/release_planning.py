"""Planning a release: one source revision into several targets, wave by wave, with a preflight per target.

Preflight runs before anyone is asked to approve. Per target it checks that the chosen revision is
syncable into it (compatible history, newer than what it has), that it is not archived, and that no
sync alm-bot started is still running into it. A target that fails is kept in the plan with its
reason (``PlannedRelease.blocked``), so the requester sees it and can drop it or cancel; a target
that cannot even be named (unknown model, the source itself, named twice) refuses the whole request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from alm_bot.anaplan import AnaplanClient, Revision
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import AnaplanError, InvalidArgument, NothingToSync
from alm_bot.operations.planning import model_ref, revision_ref
from alm_bot.records import OnFailure, RevisionRef, SyncPlan, SyncTarget
from alm_bot.store import Store

__all__ = ["PlannedRelease", "ReleaseSpec", "plan_release"]


@dataclass(frozen=True)
class ReleaseSpec:
    """What was asked: a source, the targets wave by wave, and optionally the revision."""

    source: str
    waves: tuple[tuple[str, ...], ...]
    revision: str | None = None
    on_failure: OnFailure = "stop"
    name: str | None = None  # the configured group, if it came from one


@dataclass
class _Preflight:
    info: ModelInfo
    wave: int
    latest: Revision | None = None
    syncable: list[Revision] = field(default_factory=list)
    blocked: str | None = None


@dataclass(frozen=True)
class PlannedRelease:
    plan: SyncPlan
    blocked: dict[int, str]  # position in plan.targets → why preflight blocked it
    source: ModelInfo
    targets: tuple[ModelInfo, ...]


async def plan_release(
    client: AnaplanClient, directory: ModelDirectory, store: Store, spec: ReleaseSpec
) -> PlannedRelease:
    """The release's plan with each target's preflight, or why it cannot be planned at all."""
    src = await directory.resolve(spec.source)
    checks = await _resolve_targets(directory, src, spec.waves)
    for check in checks:
        await _preflight(client, store, src, check)
    chosen = _choose_revision(src, checks, spec.revision)
    for check in checks:
        if check.blocked is None and all(r.id != chosen.id for r in check.syncable):
            check.blocked = (
                f"{check.info.label} cannot take {chosen.name!r}: it is already at or past it, or their "
                "revision histories differ."
            )
    targets = tuple(
        SyncTarget(
            model=model_ref(c.info),
            revision=RevisionRef(id=c.latest.id, name=c.latest.name)
            if c.latest
            else RevisionRef(id="", name=""),
            wave=c.wave,
        )
        for c in checks
    )
    plan = SyncPlan(
        source=model_ref(src),
        source_revision=revision_ref(chosen),
        targets=targets,
        protected=any(c.info.protected for c in checks),
        on_failure=spec.on_failure,
        release=spec.name,
    )
    blocked = {n: c.blocked for n, c in enumerate(checks) if c.blocked is not None}
    return PlannedRelease(plan, blocked, src, tuple(c.info for c in checks))


async def _resolve_targets(
    directory: ModelDirectory, src: ModelInfo, waves: Sequence[Sequence[str]]
) -> list[_Preflight]:
    if not any(waves):
        raise InvalidArgument("targets", "Name at least one target model for the release.")
    checks: list[_Preflight] = []
    for wave, names in enumerate(w for w in waves if w):
        for name in names:
            info = await directory.refresh_one((await directory.resolve(name)).id)
            if info.id == src.id:
                raise InvalidArgument("targets", f"{info.label} is the source; it cannot be a target too.")
            if any(c.info.id == info.id for c in checks):
                raise InvalidArgument("targets", f"{info.label} is named twice; each target is synced once.")
            checks.append(_Preflight(info, wave))
    return checks


async def _preflight(client: AnaplanClient, store: Store, src: ModelInfo, check: _Preflight) -> None:
    info = check.info
    if info.active_state == "ARCHIVED":
        check.blocked = f"{info.label} is archived; it takes no syncs."
        return
    busy = await store.active_runs_on(info.id)
    if busy:
        check.blocked = f"{info.label} is busy: request {busy[0].request_id} is syncing into it now."
        return
    alm = client.alm(info.id)
    try:
        check.latest = await alm.get_latest_revision()
        check.syncable = await alm.get_syncable_revisions(src.id) if check.latest else []
    except AnaplanError as exc:
        check.blocked = f"Anaplan could not be asked about {info.label}: {exc}"
        return
    if check.latest is None:
        check.blocked = f"{info.label} has no revision yet, so it cannot take a sync from {src.label}."
    elif not check.syncable:
        check.blocked = (
            f"{src.label} has no revision that {info.label} can take: it is already at "
            f"{check.latest.name!r}, or the models do not share a revision history."
        )


def _choose_revision(src: ModelInfo, checks: list[_Preflight], wanted: str | None) -> Revision:
    """The asked-for revision (by id or name), or the newest one any open target can take."""
    offered = [r for c in checks if c.blocked is None for r in c.syncable]
    if wanted:
        for rev in offered:
            if wanted.upper() == rev.id.upper() or wanted.casefold() == rev.name.casefold():
                return rev
        names = ", ".join(sorted({repr(r.name) for r in offered})[:5]) or "none"
        raise NothingToSync(
            f"{wanted!r} is not a revision of {src.label} that the targets can take ({names})."
        )
    if not offered:
        reasons = " ".join(c.blocked or "" for c in checks)
        raise NothingToSync(f"No target can take a revision of {src.label}. {reasons}".strip())
    return max(offered, key=lambda r: r.created_on)
