"""The plan digest: one hash over what an approval covers, recorded at approval and before execution.

For a sync it covers the source revision, the target revision the plan starts from, the change
summary (its own SHA-256 over sorted JSON, or none yet) and the radar's verdict (``absent`` while the
plan carries none). For a status change: the model, the state it starts from, and the new status.
Two equal digests in a request's story show that the approval covered exactly what ran.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from alm_bot.records import Plan, PlanDigest, SyncPlan, SyncTarget
from alm_bot.store import ApprovalRequest

__all__ = ["plan_digest", "radar_verdict", "with_plan_digest"]


def _sha256(content: Any) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def radar_verdict(target: SyncTarget) -> str:
    """The data-loss radar's verdict on this target's plan, or ``absent`` when it has none."""
    # The radar records a typed risk on the target (issue 15 item 1); read it without depending on it.
    verdict = getattr(getattr(target, "risk", None), "verdict", None)
    return verdict if isinstance(verdict, str) else "absent"


def plan_digest(plan: Plan) -> PlanDigest:
    """The digest of ``plan`` with the parts it covers."""
    if not isinstance(plan, SyncPlan):
        parts = {"model_id": plan.model.id, "from_state": plan.from_state, "status": plan.status}
        return PlanDigest(digest=_sha256(parts), operation="change_status")
    target = plan.target
    summary = target.summary.model_dump(mode="json") if target.summary is not None else None
    covered = PlanDigest(
        digest="",
        operation="sync",
        source_revision_id=plan.source_revision.id,
        target_model_id=target.model.id,
        target_revision_id=target.revision.id,
        summary_digest=_sha256(summary) if summary is not None else None,
        radar_verdict=radar_verdict(target),
    )
    return covered.model_copy(update={"digest": _sha256(covered.model_dump(exclude={"digest"}))})


def with_plan_digest(
    detail: Mapping[str, Any] | None = None,
) -> Callable[[ApprovalRequest], Mapping[str, Any]]:
    """An audit detail that adds the digest of the plan of the row the transition moved."""

    def said(moved: ApprovalRequest) -> Mapping[str, Any]:
        digest = plan_digest(moved.plan).model_dump(mode="json", exclude_none=True)
        return {**(detail or {}), "plan_digest": digest}

    return said
