"""The data-loss radar on Slack: the verdict line at the top of the approval card, and the
confirmation an approver gives before approving a sync that loses data.

The findings are the radar's own sentences (escaped here); the card shows the first few and counts
the rest, so a plan with thousands of findings still fits Slack's limits.
"""

from __future__ import annotations

from typing import Final

from alm_bot.operations.preflight import waits_for
from alm_bot.radar import Risk, Verdict
from alm_bot.records import SyncTarget
from alm_bot.slack.formatting import clip, escape, person
from alm_bot.store import ApprovalRequest

__all__ = ["BLOCKED_LINE", "SHOWN_FINDINGS", "lost_lines", "overridden_line", "risk_text"]

SHOWN_FINDINGS: Final = 5
BLOCKED_LINE: Final = (
    '⛔ *Approval is blocked:* `block_on_risk = "data-loss"` applies to this model. '
    "Reject it, or change the revision and ask again. Only an override approver may approve it, "
    "with a reason."
)
_HEADLINES: Final[dict[Verdict, str]] = {
    "safe": "✅ *Data-loss radar: safe* — nothing in this sync loses data in the target",
    "review": "👀 *Data-loss radar: review* — look at these changes before approving",
    "unknown": "❔ *Data-loss radar: unknown* — the radar could not read everything, so it cannot say safe",
    "data-loss": "🛑 *Data-loss radar: DATA LOSS* — this sync destroys data in the target",
}


def risk_text(target: SyncTarget, *, pending: bool) -> str | None:
    """The card's radar section (mrkdwn), or None for a plan from before the radar (and, once the
    request is decided, for one whose verdict never came)."""
    if target.risk is None:
        waiting = waits_for(target)
        if not waiting or not pending:
            return None
        return f"⏳ *Data-loss radar:* waiting for the comparison {' and '.join(waiting)}…"
    return "\n".join([_HEADLINES[target.risk.verdict], *_findings(target.risk, SHOWN_FINDINGS)])


def overridden_line(request: ApprovalRequest) -> str:
    """A blocked plan that was approved all the same: by an override approver, with this reason."""
    who = person(request.decided_by_id, request.decided_by_name)
    reason = f": {escape(clip(request.reason, 500))}" if request.reason else ""
    return f'⚠️ *Approved past* `block_on_risk = "data-loss"` by {who} (override){reason}'


def lost_lines(risk: Risk, shown: int = 10) -> list[str]:
    """What will be lost, for the confirmation form: the data-loss findings first, then the count."""
    losing = Risk.of([f for f in risk.findings if f.verdict == "data-loss"])
    others = risk.count - len(losing.findings)
    lines = _findings(losing, shown)
    if others:
        lines.append(f"(and {others} other finding{'s' if others != 1 else ''} on the card)")
    return lines


def _findings(risk: Risk, shown: int) -> list[str]:
    lines = [f"• {escape(clip(f.reason, 300))}" for f in risk.findings[:shown]]
    if (more := risk.count - min(shown, len(risk.findings))) > 0:
        lines.append(f"…and {more} more")
    return lines
