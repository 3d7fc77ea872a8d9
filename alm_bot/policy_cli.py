"""``alm-bot policy explain MODEL [--json] [--sandbox]``: a model's approval rules, from the configuration.

It needs neither Anaplan nor the database: MODEL is a configured alias or a model id, and the rules
are `alm_bot.approval_policy.explain_configured`'s record, worded here for a terminal (people and
groups by id, as the CLI names them everywhere).
"""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alm_bot.approval_policy import ApprovalProgress, PolicyExplained
    from alm_bot.errors import Approvers

    Subparsers = argparse._SubParsersAction[Any]

__all__ = ["add_policy_command", "approvals_view", "explained_text"]


def add_policy_command(sub: Subparsers) -> None:
    p = sub.add_parser("policy", help="the approval policy: who must approve changes into a model")
    actions = p.add_subparsers(dest="action", required=True)
    explain = actions.add_parser("explain", help="the effective approval rules for changes into MODEL")
    explain.add_argument("model", help="a model alias from the configuration, or a model id")
    explain.add_argument("--json", dest="as_json", action="store_true", help="machine-readable output")
    explain.add_argument("--sandbox", action="store_true", help="with the demo configuration of --sandbox")
    explain.set_defaults(func=_run_explain)


def _run_explain(args: argparse.Namespace) -> int:
    from alm_bot.approval_policy import explain_configured, explained_data
    from alm_bot.config import load_settings
    from alm_bot.sandbox.defaults import sandbox_defaults

    settings = load_settings(defaults=sandbox_defaults() if args.sandbox else None)
    explained = explain_configured(settings, args.model)
    print(json.dumps(explained_data(explained), indent=2) if args.as_json else explained_text(explained))
    return 0


def explained_text(explained: PolicyExplained) -> str:
    policy = explained.policy
    protection = {True: "protected", False: "not protected", None: "protected only when Anaplan deploys it"}
    lines = [
        f"Approval policy for {explained.label} ({explained.model_id}) — {protection[explained.protected]}",
        f"  from:      {policy.source}",
        f"  approvals: {policy.required} distinct person(s), never the requester"
        + (" (self-approval allowed)" if policy.allow_self_approval else ""),
    ]
    if policy.staged:
        for number, stage in enumerate(policy.stages, start=1):
            name = f" {stage.name}" if stage.name else ""
            lines.append(f"  stage {number}{name}: {stage.count} of {_who(stage.approvers)}")
        lines.append("             every stage must be met; a person counts in one stage only")
    else:
        lines.append(f"  from whom: {_who(policy.stages[0].approvers)}")
    if policy.remind_after is not None:
        lines.append(f"  reminder:  after {_duration(policy.remind_after)}, in the card's thread")
    if policy.escalates and policy.escalate_after is not None:
        lines.append(
            f"  escalation: after {_duration(policy.escalate_after)}, "
            f"{_who(policy.escalate_to)} may approve too"
        )
    lines.append(f"  expires:   after {_duration(policy.expires_after)} without a decision")
    return "\n".join(lines)


def approvals_view(progress: ApprovalProgress) -> dict[str, Any]:
    """A request's approvals for ``requests show``/``approve``: the count, who, and the stages."""
    view: dict[str, Any] = {
        "approvals": f"{progress.counted} of {progress.required}",
        "approved_by": [a.person_id for s in progress.stages for a in s.approved_by],
    }
    if progress.policy.staged:
        view["stages"] = [
            f"{n} {s.stage.name}".rstrip() + f": {len(s.approved_by)} of {s.stage.count}"
            for n, s in enumerate(progress.stages, start=1)
        ]
    if not progress.met:
        still = progress.still_possible()
        view["can_still_approve"] = [*still.users, *still.groups]
    return view


def _who(approvers: Approvers) -> str:
    from alm_bot.errors import PLAIN

    return PLAIN.approvers(approvers)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
