"""Release notes: one Markdown note per successful request, built from the request and its audit events.

The one builder every front end uses (``alm-bot requests notes ID``, ``alm://requests/{id}/notes``,
the card's thread in Slack, which renders the Markdown its own way). Plain, neutral Markdown: no
Slack markup, no mentions. Sections: the revision (name, description, author), what changed by
category (the plan's comparison summary), the data-loss radar's findings (when the plan has them),
who asked and who approved when, change window or override (when the audit recorded one), the
Anaplan task ids, and the verification after the sync.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

from alm_bot.evidence.story import approvals, task_ids
from alm_bot.records import StatusPlan, SyncPlan, SyncTarget, Verification
from alm_bot.store import ApprovalRequest, AuditEvent, TargetRun

__all__ = ["release_notes"]

_CATEGORIES: Final = {
    "lists": "Lists",
    "listSubsets": "List subsets",
    "modules": "Modules",
    "lineItems": "Line items",
    "rolesContents": "Roles",
    "actions": "Actions",
    "processes": "Processes",
}
_CHECKS: Final = {"revision": "Latest revision", "applied": "Listed in appliedToModels", "online": "Online"}


def release_notes(
    request: ApprovalRequest, events: Sequence[AuditEvent], runs: Sequence[TargetRun] = ()
) -> str:
    """The Markdown release notes of ``request`` (any state; the title says if it did not succeed).

    ``runs``: the request's target runs — a release's task ids and verifications are per target."""
    plan = request.plan
    if isinstance(plan, StatusPlan):
        lines = [f"# Release notes: {plan.model.name} taken {plan.status}", "", _headline(request)]
    else:
        targets = ", ".join(t.model.name for t in plan.targets)
        lines = [f"# Release notes: {plan.source_revision.name} → {targets}", ""]
        lines += [_headline(request), "", *_revision(plan)]
        for target in plan.targets:  # a release into several targets: each one's changes and risk
            named = f" in {target.model.name}" if len(plan.targets) > 1 else ""
            lines += ["", *_changes(target, named), "", *_radar(target, named)]
    lines += ["", *_people(request, events), *_windows(events), "", *_tasks(request, events, runs)]
    if isinstance(plan, SyncPlan) and plan.is_release and runs:
        for run in runs:  # each target's own check
            named = f" of {plan.targets[run.position].model.name}" if run.position < len(plan.targets) else ""
            lines += ["", *_verification(run.result.verification if run.result else None, named)]
    elif isinstance(plan, SyncPlan):
        lines += ["", *_verification(request.result.verification if request.result else None)]
    return "\n".join(lines).rstrip() + "\n"


def _when(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "unknown time"


def _headline(request: ApprovalRequest) -> str:
    plan = request.plan
    what = (
        f"Sync of {plan.source.name} into {', '.join(t.model.name for t in plan.targets)}"
        if isinstance(plan, SyncPlan)
        else f"Status change of {plan.model.name} to {plan.status}"
    )
    return f"{what}, request {request.id}: {request.state} ({_when(request.updated_at)})."


def _revision(plan: SyncPlan) -> list[str]:
    revision = plan.source_revision
    lines = ["## Revision", "", f"**{revision.name}**"]
    if revision.description:
        lines += ["", revision.description]
    made = [f"by {revision.created_by}" if revision.created_by else "", _date(revision.created_on)]
    if any(made):
        lines += ["", "Created " + " ".join(part for part in made if part) + "."]
    return lines


def _date(moment: datetime | None) -> str:
    return f"on {moment:%Y-%m-%d}" if moment else ""


def _changes(target: SyncTarget, named: str = "") -> list[str]:
    lines = [f"## What changed{named}", ""]
    summary = target.summary
    if summary is None:
        why = target.summary_error or "Anaplan's comparison summary was not available."
        return [*lines, f"No change summary: {why}"]
    if not summary.differences:
        return [*lines, "No structural differences."]
    lines += ["| Category | Created | Modified | Deleted |", "| --- | ---: | ---: | ---: |"]
    for key, counts in summary.differences.items():
        lines.append(f"| {_category(key)} | {counts.created} | {counts.modified} | {counts.deleted} |")
    totals = summary.totals
    lines.append(f"| Total | {totals.created} | {totals.modified} | {totals.deleted} |")
    return lines


def _category(key: str) -> str:
    if key in _CATEGORIES:
        return _CATEGORIES[key]
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", key).lower()
    return words[:1].upper() + words[1:]


def _radar(target: SyncTarget, named: str = "") -> list[str]:
    # The radar's typed risk on the target (issue 15 item 1), read without depending on its shape.
    risk: Any = getattr(target, "risk", None)
    verdict = getattr(risk, "verdict", None)
    heading = f"## Data-loss radar{named}"
    if not isinstance(verdict, str):
        return [heading, "", "No radar verdict was recorded for this plan."]
    lines = [heading, "", f"Verdict: {verdict}"]
    reasons = [str(getattr(f, "reason", f)) for f in getattr(risk, "findings", ()) or ()]
    omitted = getattr(risk, "omitted", 0)
    if isinstance(omitted, int) and omitted > 0:
        reasons.append(f"… and {omitted} more")
    return [*lines, *(["", *(f"- {reason}" for reason in reasons)] if reasons else [])]


def _people(request: ApprovalRequest, events: Sequence[AuditEvent]) -> list[str]:
    lines = ["## People", "", f"- Requested by {request.requester_name} ({_when(request.created_at)})"]
    approved = approvals(events)
    for event in approved:
        how = " — break-glass, outside Slack" if event.detail.get("break_glass") else ""
        reason = f": {event.detail['reason']}" if event.detail.get("reason") else ""
        lines.append(f"- Approved by {event.actor_name or event.actor_id} ({_when(event.at)}){how}{reason}")
    if not approved and request.plan.protected:
        lines.append("- No approval is recorded in the audit log.")
    elif not approved:
        lines.append("- No approval needed: the target is not protected.")
    return lines


def _windows(events: Iterable[AuditEvent]) -> list[str]:
    """Change-window and override events, as the audit recorded them (issue 13 item 3)."""
    found = [e for e in events if "window" in e.action or "override" in e.action]
    if not found:
        return []
    lines = ["", "## Change window", ""]
    for event in found:
        said = ", ".join(f"{k}: {v}" for k, v in sorted(event.detail.items()) if v not in (None, ""))
        by = f" by {event.actor_name}" if event.actor_name else ""
        lines.append(
            f"- {event.action.replace('_', ' ')}{by} ({_when(event.at)}){': ' + said if said else ''}"
        )
    return lines


def _tasks(request: ApprovalRequest, events: Iterable[AuditEvent], runs: Sequence[TargetRun]) -> list[str]:
    ids = list(
        dict.fromkeys([*task_ids(request, events), *(r.anaplan_task_id for r in runs if r.anaplan_task_id)])
    )
    if not ids:
        return ["## Anaplan tasks", "", "No Anaplan task ran."]
    return ["## Anaplan tasks", "", *(f"- Sync task {task_id}" for task_id in ids)]


def _verification(verification: Verification | None, named: str = "") -> list[str]:
    lines = [f"## Verification{named}", ""]
    if verification is None:
        return [*lines, "Not verified: no check after the sync was recorded."]
    target, revision = verification.model.name, verification.revision.name
    head = (
        f"Verified: {target} is at {revision}."
        if verification.verified
        else f"Not verified: {target} was expected at {revision}."
    )
    lines += [head, ""]
    for check in verification.checks:
        state = {True: "yes", False: "no", None: "could not tell"}[check.ok]
        lines.append(f"- {_CHECKS[check.check]}: {state} ({check.found})")
    return [*lines, "", f"Checked {_when(verification.checked_at)}."]
