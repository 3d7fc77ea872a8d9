"""Block Kit renderers: the approval card in every state, help, and lists — snapshot-tested.

Built from ``slack_sdk.models`` objects; the snapshots are their ``to_dict()`` as Slack receives
it. Every card must also stay inside Slack's limits (≤ 50 blocks, section text ≤ 3000 chars),
however long the names, descriptions and reasons are.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

from alm_bot.approval_policy import Approval, ApprovalProgress, progress, target_policy
from alm_bot.config import ApprovalConfig, ModelConfig
from alm_bot.directory import ModelInfo
from alm_bot.records import TaskOutcome, WindowHold
from alm_bot.slack.buttons import APPROVE, REJECT, button_value
from alm_bot.slack.cards import approval_card
from alm_bot.slack.message import Message
from alm_bot.slack.replies import help_message, model_list
from alm_bot.store import ApprovalRequest
from alm_bot.windows import ChangeWindow, decide
from tests.legacy_rows import plan_from_flat

CREATED = datetime(2025, 6, 2, 9, 30, tzinfo=UTC)
DECIDED = CREATED + timedelta(minutes=12)
Q4_CLOSE = "deny window 'Q4 close' is open until Tue 22:00 Europe/London"
SUMMARY = {
    "targetRevisionId": "D88FFB555CB331A67BFA533499D6949B",
    "sourceRevisionId": "C5F38FE0C35EB839CAB6013351BEDCF4",
    "totals": {"created": 8, "modified": 5, "deleted": 1},
    "differences": {
        "lists": {"created": 1, "modified": 1},
        "modules": {"created": 1, "modified": 1},
        "lineItems": {"created": 5, "modified": 2, "deleted": 1},
        "rolesContents": {"modified": 1},
        "newKindOfThing": {"created": 1},
    },
}


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    return snapshot.use_extension(JSONSnapshotExtension)


def sync_request(state: str = "pending", **changes: Any) -> ApprovalRequest:
    plan: dict[str, Any] = {
        "source_model_id": "1497B2A3711C8A3E75250696C910CFBA",
        "source_model_name": "FP&A DEV",
        "source_alias": "dev",
        "target_model_id": "0085E9ACE5F908A0582AA6F438CE70FC",
        "target_model_name": "FP&A PROD",
        "target_alias": "prod",
        "source_revision_id": "C5F38FE0C35EB839CAB6013351BEDCF4",
        "source_revision_name": "Capex module",
        "source_revision_description": "Capital expenditure planning.",
        "source_revision_created_by": "ada@example.com",
        "source_revision_created_on": "2025-05-30T14:15:00+00:00",
        "target_revision_id": "D88FFB555CB331A67BFA533499D6949B",
        "target_revision_name": "Headcount planning",
        "summary_task_id": "DBB80B700289415F91AAF1FFD45C1EEA",
        "protected": True,
    }
    plan |= changes.pop("plan", {})
    operation = changes.pop("operation", "sync")
    result = changes.pop("result", None)
    fields: dict[str, Any] = {
        "id": "R7K3QX2",
        "operation": operation,
        "parameters": {"source": "dev", "target": "prod", "revision": None},
        "plan": plan_from_flat(operation, plan),
        "result": TaskOutcome.model_validate(result) if result is not None else None,
        "target_model_id": "0085E9ACE5F908A0582AA6F438CE70FC",
        "requester_id": "U0REQUESTER",
        "requester_name": "Ada Lovelace",
        "origin": "slack",
        "state": state,
        "created_at": CREATED,
        "expires_at": CREATED + timedelta(hours=24),
        "card_ref": "C0APPROVALS 1700000000.000001",
    }
    if state not in ("requested", "pending", "expired"):
        fields |= {"decided_by_id": "U0APPROVER1", "decided_by_name": "Grace Hopper", "decided_at": DECIDED}
    return ApprovalRequest(**(fields | changes))


def status_request(state: str = "pending") -> ApprovalRequest:
    plan = {
        "model_id": "0085E9ACE5F908A0582AA6F438CE70FC",
        "model_name": "FP&A PROD",
        "model_alias": "prod",
        "from_state": "PRODUCTION",
        "status": "offline",
        "protected": True,
    }
    return sync_request(state, operation="change_status", plan=plan, parameters={"model": "prod"})


CARDS = {
    "pending_computing": lambda: sync_request(),
    "pending_with_summary": lambda: sync_request(plan={"summary": SUMMARY}),
    "pending_summary_failed": lambda: sync_request(plan={"summary_error": "Anaplan task failed — timeout"}),
    "pending_via_assistant": lambda: sync_request(origin="mcp", plan={"summary": SUMMARY}),
    "approved_syncing": lambda: sync_request("executing", plan={"summary": SUMMARY}, anaplan_task_id="T1"),
    "rejected": lambda: sync_request(
        "rejected", plan={"summary": SUMMARY}, reason="Not before the Q3 close."
    ),
    "expired": lambda: sync_request("expired", plan={"summary": SUMMARY}),
    "failed": lambda: sync_request(
        "failed",
        plan={"summary": SUMMARY},
        result={"successful": False, "title": "Sync failed", "message": "boom"},
    ),
    "succeeded": lambda: sync_request("succeeded", plan={"summary": SUMMARY}, result={"successful": True}),
    "cancelled": lambda: sync_request(
        "cancelled", decided_by_id="U0REQUESTER", decided_by_name="Ada Lovelace"
    ),
    "status_change_pending": lambda: status_request(),
    "scheduled": lambda: sync_request(
        "scheduled",
        plan={"summary": SUMMARY},
        runs_at=DECIDED + timedelta(hours=12),
        window=WindowHold(reason=Q4_CLOSE, zone="Europe/London"),
    ),
    "overridden_syncing": lambda: sync_request(
        "executing",
        plan={"summary": SUMMARY},
        anaplan_task_id="T1",
        runs_at=DECIDED + timedelta(hours=12),
        window=WindowHold(
            reason=Q4_CLOSE,
            zone="Europe/London",
            overridden_by_id="U0APPROVER2",
            overridden_by_name="Linus",
            override_reason="Payroll fix cannot wait.",
            overridden_at=DECIDED,
        ),
    ),
}


@pytest.mark.parametrize("name", sorted(CARDS))
def test_the_approval_card_matches_its_snapshot(name: str, snapshot_json: SnapshotAssertion) -> None:
    card = approval_card(CARDS[name]())
    assert {"text": card.text, "blocks": card.block_dicts()} == snapshot_json


def test_a_pending_card_has_approve_and_reject_carrying_only_the_request_id() -> None:
    blocks = approval_card(sync_request()).block_dicts()
    (actions,) = [b for b in blocks if b["type"] == "actions"]
    assert [(e["action_id"], e["value"]) for e in actions["elements"]] == [
        (APPROVE, button_value("R7K3QX2")),
        (REJECT, button_value("R7K3QX2")),
    ]
    assert button_value("R7K3QX2") == '{"v":1,"request":"R7K3QX2"}'


@pytest.mark.parametrize(
    "state", ["approved", "executing", "succeeded", "failed", "rejected", "expired", "cancelled"]
)
def test_a_decided_card_has_no_buttons(state: str) -> None:
    assert all(b["type"] != "actions" for b in approval_card(sync_request(state)).block_dicts())


def test_an_expired_card_says_expired_and_never_rejected() -> None:
    text = str(approval_card(sync_request("expired")).block_dicts())
    assert "EXPIRED" in text
    assert "reject" not in text.casefold()


def test_the_card_shows_computing_until_the_summary_arrives() -> None:
    assert "computing…" in str(approval_card(sync_request()).block_dicts())
    assert "computing…" not in str(approval_card(sync_request(plan={"summary": SUMMARY})).block_dicts())


def test_names_from_people_cannot_ping_the_channel() -> None:
    card = approval_card(sync_request(plan={"source_revision_description": "<!channel> look & see"}))
    text = str(card.block_dicts())
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; look &amp; see" in text


def huge(request: ApprovalRequest) -> ApprovalRequest:
    long = "x" * 5000
    flat = {
        "source_model_name": long,
        "target_model_name": long,
        "source_revision_name": long,
        "source_revision_description": long,
        "source_revision_created_by": long,
        "model_name": long,
        "summary": SUMMARY | {"differences": {f"category{i}": {"created": i} for i in range(200)}},
    }
    huge_request = sync_request(request.state, operation=request.operation, plan=flat)
    huge_request.reason = long
    huge_request.result = TaskOutcome(successful=False, title=long, message=long)
    return huge_request


@pytest.mark.parametrize("name", sorted(CARDS))
def test_every_card_stays_inside_slack_limits_even_with_huge_content(name: str) -> None:
    for request in (CARDS[name](), huge(CARDS[name]())):
        assert_within_limits(approval_card(request))


def assert_within_limits(message: Message) -> None:
    blocks = message.block_dicts()  # to_dict() also runs slack_sdk's own validation
    assert len(blocks) <= 50
    for block in blocks:
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            assert len(block.get("fields", [])) <= 10
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def test_help_matches_its_snapshot(snapshot_json: SnapshotAssertion) -> None:
    message = help_message()
    assert {"text": message.text, "blocks": message.block_dicts()} == snapshot_json


def models(count: int) -> list[ModelInfo]:
    return [
        ModelInfo(
            id=f"{i:032X}",
            name=f"Model {i:02d}",
            alias=f"m{i}" if i % 2 else None,
            workspace_id="W" * 32,
            workspace_name="FP&A",
            active_state="PRODUCTION" if i % 3 == 0 else "UNLOCKED",
            mode="standard",
            online=i % 5 != 0,
            protected=i % 3 == 0,
        )
        for i in range(count)
    ]


def test_the_models_list_matches_its_snapshot(snapshot_json: SnapshotAssertion) -> None:
    message = model_list(models(3), None)
    assert {"text": message.text, "blocks": message.block_dicts()} == snapshot_json


def test_a_long_models_list_shows_twenty_and_says_how_many_more() -> None:
    message = model_list(models(57), "Model")
    blocks = message.block_dicts()
    assert sum(1 for b in blocks if b["type"] == "section") == 21  # heading + 20 models
    assert blocks[-1]["elements"][0]["text"] == "… and 37 more; narrow with /alm models &lt;filter&gt;"
    assert_within_limits(message)


# --- cards under an approval policy ----------------------------------------------------------------

DEFAULT_APPROVAL = ApprovalConfig(channel="C0APPROVALS", approvers=("U0APPROVER1", "U0APPROVER2"))
GRACE = Approval("U0APPROVER1", "Grace Hopper", DECIDED, frozenset({"S0PEERS"}))
LINUS = Approval("U0APPROVER2", "Linus Torvalds", DECIDED, frozenset({"S0FINANCE"}))
TWO_OF = ModelConfig(id="0085E9ACE5F908A0582AA6F438CE70FC", approvals_required=2)
STAGED = ModelConfig(
    id="0085E9ACE5F908A0582AA6F438CE70FC",
    stages=[{"approvers": ["S0PEERS"], "name": "peers"}, {"approvers": ["S0FINANCE"], "name": "finance"}],
    escalate_after="6h",
    escalate_to=["U0BOSS"],
)


def counted(config: ModelConfig, *approvals: Approval, escalated: bool = False) -> ApprovalProgress:
    policy = target_policy(DEFAULT_APPROVAL, config, "[models.prod]")
    return progress(policy, approvals, escalated_at=DECIDED if escalated else None)


POLICY_CARDS = {
    "two_of_one_counted": lambda: (sync_request(plan={"summary": SUMMARY}), counted(TWO_OF, GRACE)),
    "two_of_approved": lambda: (
        sync_request("executing", plan={"summary": SUMMARY}, anaplan_task_id="T1"),
        counted(TWO_OF, GRACE, LINUS),
    ),
    "stages_one_met_escalated": lambda: (
        sync_request(plan={"summary": SUMMARY}),
        counted(STAGED, GRACE, escalated=True),
    ),
}


@pytest.mark.parametrize("name", sorted(POLICY_CARDS))
def test_a_card_under_a_policy_matches_its_snapshot(name: str, snapshot_json: SnapshotAssertion) -> None:
    card = approval_card(*POLICY_CARDS[name]())
    assert {"text": card.text, "blocks": card.block_dicts()} == snapshot_json


@pytest.mark.parametrize("name", sorted(CARDS))
def test_under_the_original_one_approval_rule_the_card_is_drawn_exactly_as_before(name: str) -> None:
    request = CARDS[name]()
    plain = counted(
        ModelConfig(id="0085E9ACE5F908A0582AA6F438CE70FC"), *([GRACE] if request.decided_by_id else [])
    )
    assert approval_card(request, plain) == approval_card(request)


def test_a_scheduled_card_says_when_it_runs_and_offers_only_the_override() -> None:
    card = approval_card(CARDS["scheduled"]())
    text = str(card.block_dicts())
    assert "runs at Mon 22:42 Europe/London" in text  # 21:42 UTC is 22:42 BST in June
    assert "Q4 close" in text
    assert APPROVE not in text
    assert REJECT not in text
    assert "alm_override" in text


def test_a_pending_card_shows_the_change_window_it_would_wait_for() -> None:
    windows = (
        ChangeWindow.once(
            1, ["prod"], "deny", datetime(2025, 6, 2), datetime(2025, 6, 3), "UTC", "release freeze"
        ),
    )
    decision = decide(windows, {"prod"}, CREATED)
    text = str(approval_card(sync_request(), window=decision).block_dicts())
    assert "deny window 'release freeze' is open until" in text
    assert "if approved, it runs at Tue 00:00 UTC" in text
    assert "Change window" not in str(approval_card(sync_request()).block_dicts())
