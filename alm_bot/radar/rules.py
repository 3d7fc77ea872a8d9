"""The radar's rules: one table, each rule with its verdict and where the rule comes from.

Anaplan's guidance on what a sync destroys:

- ALM Explained, Part 3: Avoiding Data Loss (Anaplan Community best practice) — "the most common
  examples of how stored data might be overwritten following a synchronization": changing a module's
  applies-to (subsets included), changing the timescale or calendar settings, moving the switchover
  backward, adding a formula to a data-entry line item, changing a list from production to structural;
  and reverting the revision tag does not restore the data.
- Model Data and ALM (Anapedia) — cell values are production data; a sync moves structure only, so a
  line item, module or list that the structure loses takes its cells in the target with it.
- Planual rule on production lists (Anaplan support) — setting a list back to structural deletes the
  data of the existing production list, even when the members are the same.
- The comparison report's layout (Anaplan ALM API, "Retrieve the content for a full comparison
  report"; reference §4.10c) — which sections and columns exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from alm_bot.radar.findings import Finding, Verdict

__all__ = ["RULES", "Rule", "finding"]

ALM_DATA_LOSS: Final = (
    "https://community.anaplan.com/t5/Best-Practices/ALM-Explained-Part-3-Avoiding-Data-Loss/ta-p/86988"
)
MODEL_DATA: Final = "https://help.anaplan.com/model-data-and-alm-6bc5d30f-9ca5-4c0a-b0f7-596386d4e519"
PRODUCTION_LISTS: Final = "https://support.anaplan.com/ja/本番リスト-b6313191-aada-4c52-bbf8-ebb1d6ef3587"
REPORT_LAYOUT: Final = "https://almapi.docs.apiary.io (Retrieve the content for a full comparison report)"
UNREAD: Final = "alm-bot: what the radar cannot read is never called safe"


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule: its id (in findings), its verdict, what it looks for, and its source."""

    id: str
    verdict: Verdict
    looks_for: str
    source: str


RULES: Final[dict[str, Rule]] = {
    rule.id: rule
    for rule in (
        Rule("line-item-deleted", "data-loss", "a line item in a LINE ITEMS DELETED section", MODEL_DATA),
        Rule("module-deleted", "data-loss", "a module in a MODULES DELETED section", MODEL_DATA),
        Rule("list-deleted", "data-loss", "a list in a LISTS DELETED section", MODEL_DATA),
        Rule("list-items-deleted", "data-loss", "Items Deleted > 0 in CHANGES WITHIN LISTS", MODEL_DATA),
        Rule(
            "list-properties-deleted",
            "data-loss",
            "Properties Deleted > 0 in CHANGES WITHIN LISTS",
            MODEL_DATA,
        ),
        Rule(
            "summary-deleted", "data-loss", "deleted line items, modules or lists in the summary", MODEL_DATA
        ),
        Rule("applies-to-changed", "data-loss", "Applies To changed on a module or line item", ALM_DATA_LOSS),
        Rule("timescale-changed", "data-loss", "Time Scale or Time Range changed", ALM_DATA_LOSS),
        Rule("calendar-changed", "data-loss", "a model calendar setting changed", ALM_DATA_LOSS),
        Rule(
            "switchover-backwards",
            "data-loss",
            "the switchover period moved to an earlier one",
            ALM_DATA_LOSS,
        ),
        Rule("formula-on-input", "data-loss", "a formula added to a line item that had none", ALM_DATA_LOSS),
        Rule(
            "production-list-to-structural",
            "data-loss",
            "Is Production Data changed from true to false",
            f"{ALM_DATA_LOSS}; {PRODUCTION_LISTS}",
        ),
        Rule("switchover-moved", "review", "a switchover change the radar cannot order", ALM_DATA_LOSS),
        Rule("format-changed", "review", "Data Type or Format changed on a line item", MODEL_DATA),
        Rule("versions-changed", "review", "Versions changed on a module or line item", ALM_DATA_LOSS),
        Rule(
            "list-items-changed",
            "review",
            "Items Changed or Properties Changed in CHANGES WITHIN LISTS",
            MODEL_DATA,
        ),
        Rule("subset-changed", "review", "a list subset changed or deleted", ALM_DATA_LOSS),
        Rule(
            "change-not-detailed",
            "review",
            "a changed object whose report row shows no before → after",
            UNREAD,
        ),
        Rule("summary-changed", "review", "changed line items, modules or lists with no full report", UNREAD),
        Rule(
            "report-unknown",
            "unknown",
            "a report section, column or line the radar does not know",
            f"{UNREAD}; layout: {REPORT_LAYOUT}",
        ),
        Rule("report-too-large", "unknown", "a full report over the radar's size cap", UNREAD),
        Rule("report-unavailable", "unknown", "a full report that was wanted but could not be read", UNREAD),
        Rule("nothing-read", "unknown", "a plan with neither a summary nor a report", UNREAD),
        Rule("summary-unknown", "unknown", "a summary category the radar does not know", UNREAD),
        Rule("report-disagrees", "unknown", "summary counts that the report's rows do not show", UNREAD),
    )
}


def finding(rule: str, category: str, name: str, reason: str, module: str | None = None) -> Finding:
    """A finding of ``rule`` (its verdict comes from the table)."""
    return Finding(
        verdict=RULES[rule].verdict, rule=rule, category=category, object=name, module=module, reason=reason
    )
