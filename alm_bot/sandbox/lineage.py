"""Revision compatibility: which source revisions a target can take (reference §8 rule 1).

A model's revisions form its history; syncing appends the source revision to the target's history,
so both then share it. A source revision can go to a target when the target's latest revision is in
the source's history and the source revision comes after it: "newer than, and descended from".
"""

from __future__ import annotations

from alm_bot.sandbox.state import Model

__all__ = ["revisions_between", "sync_is_compatible", "syncable_revision_ids"]


def revisions_between(source: Model, target_revision_id: str, source_revision_id: str) -> list[str] | None:
    """The source's revisions after ``target_revision_id`` up to and including ``source_revision_id``.

    None when the pair is incompatible: either id is missing from the source's history, or the
    source revision is not newer than the target revision.
    """
    history = source.revision_ids
    if target_revision_id not in history or source_revision_id not in history:
        return None
    start, end = history.index(target_revision_id), history.index(source_revision_id)
    return history[start + 1 : end + 1] if end > start else None


def syncable_revision_ids(source: Model, target: Model) -> list[str]:
    """Source revisions the target can take, newest first (the order of the Anaplan UI)."""
    latest = target.latest_revision_id
    if latest is None or latest not in source.revision_ids:
        return []
    return source.revision_ids[source.revision_ids.index(latest) + 1 :][::-1]


def sync_is_compatible(
    source: Model, target: Model, target_revision_id: str, source_revision_id: str
) -> bool:
    """A sync needs the target still at ``target_revision_id`` and a source revision it can take."""
    if target.latest_revision_id != target_revision_id:
        return False
    return revisions_between(source, target_revision_id, source_revision_id) is not None
