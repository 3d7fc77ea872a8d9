"""Planning a sync: which source revision goes into which target, checked against Anaplan now.

A plan is what an approver approves; it is stored on the request and re-checked before execution.
"""

from __future__ import annotations

from dataclasses import dataclass

from alm_bot.anaplan import AnaplanClient, Revision
from alm_bot.directory import ModelDirectory, ModelInfo
from alm_bot.errors import Action, AnaplanError, InvalidArgument, NextStep, NothingToSync
from alm_bot.records import ModelRef, RevisionRef, SyncPlan, SyncTarget

__all__ = [
    "PlannedSync",
    "model_ref",
    "plan_record",
    "plan_sync",
    "revision_ref",
    "start_plan_summary",
    "start_target_summary",
]


@dataclass(frozen=True)
class PlannedSync:
    source: ModelInfo
    target: ModelInfo
    source_revision: Revision
    target_revision: Revision


async def plan_sync(
    client: AnaplanClient, directory: ModelDirectory, source: str, target: str, revision: str | None
) -> PlannedSync:
    """The sync of ``revision`` (default: the newest syncable) of ``source`` into ``target``, or why not."""
    src = await directory.resolve(source)
    tgt = await directory.refresh_one((await directory.resolve(target)).id)
    if src.id == tgt.id:
        raise InvalidArgument("target", f"Source and target are the same model ({src.label}).")
    alm = client.alm(tgt.id)
    latest = await alm.get_latest_revision()
    if latest is None:
        raise NothingToSync(f"{tgt.label} has no revision yet, so it cannot take a sync from {src.label}.")
    syncable = await alm.get_syncable_revisions(src.id)
    if not syncable:
        raise NothingToSync(
            f"{src.label} has no revision that {tgt.label} can take: the target is already at "
            f"{latest.name!r}, or the models do not share a revision history.",
            next_step=NextStep(Action.CREATE_REVISION, src.alias or src.id),
        )
    chosen = _pick_revision(syncable, revision, src, tgt) if revision else syncable[0]
    return PlannedSync(src, tgt, chosen, latest)


async def start_plan_summary(client: AnaplanClient, plan: PlannedSync) -> str | None:
    """Ask Anaplan for a change summary so the approver sees what changes; never blocks the request."""
    try:
        task = await client.alm(plan.target.id).create_comparison_summary(
            plan.source_revision.id, plan.source.id, plan.target_revision.id, wait_for_completion=False
        )
    except AnaplanError:
        return None
    return task.task_id


async def start_target_summary(client: AnaplanClient, plan: SyncPlan, target: SyncTarget) -> str | None:
    """`start_plan_summary` for one target of a stored plan (a release has one summary per target)."""
    try:
        task = await client.alm(target.model.id).create_comparison_summary(
            plan.source_revision.id, plan.source.id, target.revision.id, wait_for_completion=False
        )
    except AnaplanError:
        return None
    return task.task_id


def _pick_revision(syncable: list[Revision], wanted: str, src: ModelInfo, tgt: ModelInfo) -> Revision:
    for rev in syncable:
        if wanted.upper() == rev.id.upper() or wanted.casefold() == rev.name.casefold():
            return rev
    names = ", ".join(repr(r.name) for r in syncable[:5])
    raise NothingToSync(
        f"{wanted!r} is not a revision of {src.label} that {tgt.label} can take. Syncable now: {names}."
    )


def model_ref(info: ModelInfo) -> ModelRef:
    return ModelRef(id=info.id, name=info.name, alias=info.alias)


def revision_ref(revision: Revision) -> RevisionRef:
    return RevisionRef(
        id=revision.id,
        name=revision.name,
        description=revision.description,
        created_by=revision.created_by,
        created_on=revision.created_on,
    )


def plan_record(plan: PlannedSync, *, summary_task_id: str | None = None) -> SyncPlan:
    """The plan as it is stored on the request (or on a comparison's tracked task)."""
    target = SyncTarget(
        model=model_ref(plan.target),
        revision=RevisionRef(id=plan.target_revision.id, name=plan.target_revision.name),
        summary_task_id=summary_task_id,
    )
    return SyncPlan(
        source=model_ref(plan.source),
        source_revision=revision_ref(plan.source_revision),
        targets=(target,),
        protected=plan.target.protected,
    )
