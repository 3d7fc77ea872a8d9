"""Verify after sync: Anaplan said the sync succeeded — is the target really there?

Three checks, each read from Anaplan after the task finished (before the finishing transaction:
no I/O inside it):

- ``revision``: the target's latest revision is the plan's source revision (``latestRevision``);
- ``applied``: the revision's ``appliedToModels`` (read on the source model, where the revision was
  made) lists the target. Anaplan's documentation does not promise that a sync adds the entry
  (reference §6, inferred): a list without the target fails the check only when it shows other
  syncs (``appliedMethod`` "Revision synchronized"); otherwise the check stays open (``ok`` None,
  "not listed") — never passed or failed by guesswork;
- ``online``: the target is online now (``activeState`` not a maintenance, locked or archived
  state): a model taken offline for the release must be back for its users.

``verified`` needs the revision and the online check to pass and the applied check not to fail.
A check Anaplan could not answer is ``ok`` None with the reason, and the sync is then not verified.
"""

from __future__ import annotations

from datetime import datetime

from alm_bot.anaplan import AnaplanClient
from alm_bot.errors import AnaplanError
from alm_bot.records import SyncPlan, SyncTarget, Verification, VerificationCheck

__all__ = ["verify_sync"]

_SYNCED = "Revision synchronized"  # appliedMethod of an entry a sync added (reference §6)


async def verify_sync(
    client: AnaplanClient, plan: SyncPlan, now: datetime, target_model_id: str | None = None
) -> Verification:
    """Check a target of the plan (the one with ``target_model_id``, default the first) after
    Anaplan reported the sync into it successful."""
    wanted = (target_model_id or plan.target.model.id).upper()
    target = next((t for t in plan.targets if t.model.id.upper() == wanted), plan.target)
    checks = (
        await _revision(client, plan, target),
        await _applied(client, plan, target),
        await _online(client, target),
    )
    revision, applied, online = checks
    verified = revision.ok is True and online.ok is True and applied.ok is not False
    return Verification(
        verified=verified,
        model=target.model,
        revision=plan.source_revision,
        checks=checks,
        checked_at=now,
    )


async def _revision(client: AnaplanClient, plan: SyncPlan, target: SyncTarget) -> VerificationCheck:
    expected = plan.source_revision.name
    try:
        latest = await client.alm(target.model.id).get_latest_revision()
    except AnaplanError as exc:
        return VerificationCheck(check="revision", ok=None, expected=expected, found=f"unreadable: {exc}")
    if latest is None:
        return VerificationCheck(check="revision", ok=False, expected=expected, found="no revision")
    ok = latest.id == plan.source_revision.id
    return VerificationCheck(check="revision", ok=ok, expected=expected, found=latest.name)


async def _applied(client: AnaplanClient, plan: SyncPlan, planned: SyncTarget) -> VerificationCheck:
    target = planned.model
    try:
        models = await client.alm(plan.source.id).get_models_for_revision(plan.source_revision.id)
    except AnaplanError as exc:
        return VerificationCheck(check="applied", ok=None, expected=target.name, found=f"unreadable: {exc}")
    listed = {m.model_id.upper() for m in models if m.model_id}
    if target.id.upper() in listed:
        return VerificationCheck(check="applied", ok=True, expected=target.name, found="listed")
    if any(m.applied_method == _SYNCED for m in models):
        # This list does record syncs (into other models), and not this one.
        return VerificationCheck(check="applied", ok=False, expected=target.name, found="not listed")
    # Open, not failed: Anaplan does not document that a sync adds the target to this list.
    return VerificationCheck(check="applied", ok=None, expected=target.name, found="not listed")


async def _online(client: AnaplanClient, target: SyncTarget) -> VerificationCheck:
    try:
        model = await client.get_model(target.model.id)
    except AnaplanError as exc:
        return VerificationCheck(check="online", ok=None, expected="online", found=f"unreadable: {exc}")
    return VerificationCheck(check="online", ok=model.is_online, expected="online", found=model.active_state)
