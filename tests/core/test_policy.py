"""The rules: what needs approval, who may decide or cancel, and what each refusal says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from store_builders import new_request

from alm_bot.actor import Actor, parse_actor
from alm_bot.config import ApprovalConfig, ModelConfig
from alm_bot.errors import (
    Action,
    ApprovalNotConfigured,
    Approvers,
    NextStep,
    NotAllowed,
    Refusal,
    RequestNotPending,
)
from alm_bot.policy import (
    approvers_of,
    check_may_cancel,
    check_may_decide,
    needs_approval,
    require_approvers,
)
from alm_bot.store import ApprovalRequest

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DECIDED_AT = datetime(2025, 3, 1, 10, 5, tzinfo=UTC)
ID = "0123456789ABCDEF0123456789ABCDEF"

APPROVAL = ApprovalConfig(channel="C0APPROVALS", approvers=("U0CARL", "U0ADA"), approver_groups=("S0ADMINS",))
ADA = Actor("U0ADA", "Ada", "slack")  # the requester, also a named approver
CARL = Actor("U0CARL", "Carl", "slack")
DORA = Actor("U0DORA", "Dora", "slack")  # in no list
ERIN = Actor("U0ERIN", "Erin", "slack")  # member of S0ADMINS


def request(state: str = "pending", **fields: object) -> ApprovalRequest:
    built = new_request(
        id="R0A1B2C", created_at=NOW - timedelta(hours=2), expires_at=NOW + timedelta(hours=22)
    )
    return built.model_copy(update={"state": state, **fields})


# --- needs_approval / require_approvers / approvers_of ----------------------------------------------


@pytest.mark.parametrize(
    ("config", "active_state", "expected"),
    [
        (None, "UNLOCKED", False),
        (None, "MAINTENANCE", False),
        (None, "PRODUCTION", True),
        (None, "PRODUCTION_MAINTENANCE", True),
        (ModelConfig(id=ID), "UNLOCKED", False),
        (ModelConfig(id=ID, protected=True), "UNLOCKED", True),
        (ModelConfig(id=ID, protected=False), "PRODUCTION", True),
    ],
)
def test_a_change_needs_approval_when_the_model_is_protected_or_deployed(
    config: ModelConfig | None, active_state: str, expected: bool
) -> None:
    assert needs_approval(config, active_state) is expected


def test_without_approvers_a_protected_change_is_refused_with_how_to_configure_them() -> None:
    with pytest.raises(ApprovalNotConfigured) as caught:
        require_approvers(ApprovalConfig())
    message = str(caught.value)
    for hint in (
        "no approvers are configured",
        "ALM_BOT_CONFIG",
        "[approval]",
        "approvers = ",
        "approver_groups",
    ):
        assert hint in message


@pytest.mark.parametrize(
    "approval",
    [ApprovalConfig(channel="C1", approvers=("U1",)), ApprovalConfig(channel="C1", approver_groups=("S1",))],
)
def test_one_approver_or_one_group_is_enough(approval: ApprovalConfig) -> None:
    require_approvers(approval)


def test_the_approvers_are_the_configured_user_and_group_ids() -> None:
    assert approvers_of(APPROVAL) == Approvers(users=("U0CARL", "U0ADA"), groups=("S0ADMINS",))
    assert not approvers_of(ApprovalConfig()).anyone


# --- check_may_decide: who ----------------------------------------------------------------------


def test_a_named_approver_may_decide_someone_elses_request() -> None:
    check_may_decide(request(), CARL, (), APPROVAL, NOW)


def test_a_member_of_an_approver_group_may_decide() -> None:
    check_may_decide(request(), ERIN, ("S0OTHER", "S0ADMINS"), APPROVAL, NOW)


def test_the_break_glass_cli_may_decide_as_a_named_approver() -> None:
    check_may_decide(request(), Actor("U0CARL", "Carl", "cli"), (), APPROVAL, NOW)


def test_someone_who_is_no_approver_is_told_who_can_approve() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_may_decide(request(), DORA, ("S0OTHER",), APPROVAL, NOW)
    assert caught.value.reason is Refusal.NOT_AN_APPROVER
    assert caught.value.request_id == "R0A1B2C"
    assert caught.value.approvers == approvers_of(APPROVAL)


def test_the_requester_may_not_decide_their_own_request_even_as_an_approver() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_may_decide(request(), ADA, ("S0ADMINS",), APPROVAL, NOW)
    assert caught.value.reason is Refusal.OWN_REQUEST
    assert caught.value.approvers == approvers_of(APPROVAL)
    assert caught.value.next_step == NextStep(Action.CANCEL_REQUEST, "R0A1B2C")


def test_self_approval_is_allowed_only_when_configured_and_only_for_approvers() -> None:
    allowing = APPROVAL.model_copy(update={"allow_self_approval": True})
    check_may_decide(request(), ADA, (), allowing, NOW)
    with pytest.raises(NotAllowed) as caught:
        check_may_decide(request(requester_id=DORA.id), DORA, (), allowing, NOW)
    assert caught.value.reason is Refusal.NOT_AN_APPROVER


def test_nobody_decides_through_an_assistant() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_may_decide(request(), Actor("U0CARL", "Carl", "mcp"), (), APPROVAL, NOW)
    assert caught.value.reason is Refusal.ASSISTANT_CANNOT_DECIDE
    assert caught.value.approvers == approvers_of(APPROVAL)


# --- check_may_decide: when ---------------------------------------------------------------------


def decided(state: str, **fields: object) -> ApprovalRequest:
    return request(state, decided_by_id=CARL.id, decided_by_name="Carl", decided_at=DECIDED_AT, **fields)


@pytest.mark.parametrize(
    ("late", "message"),
    [
        (decided("approved"), "Request R0A1B2C was already approved by Carl on 2025-03-01 at 10:05 UTC."),
        (
            decided("executing"),
            "Request R0A1B2C was already approved by Carl on 2025-03-01 at 10:05 UTC (it is now executing).",
        ),
        (
            decided("succeeded"),
            "Request R0A1B2C was already approved by Carl on 2025-03-01 at 10:05 UTC (it is now succeeded).",
        ),
        (
            decided("rejected", reason="wrong revision"),
            "Request R0A1B2C was already rejected by Carl on 2025-03-01 at 10:05 UTC: wrong revision.",
        ),
        (
            request("cancelled", decided_by_name="Ada", decided_at=DECIDED_AT),
            "Request R0A1B2C was cancelled by Ada on 2025-03-01 at 10:05 UTC.",
        ),
        (request("cancelled"), "Request R0A1B2C was cancelled by Ada."),
        (
            request("expired", expires_at=DECIDED_AT),
            "Request R0A1B2C EXPIRED on 2025-03-01 at 10:05 UTC without a decision. "
            "Ask for the change again.",
        ),
        (request("requested"), "Request R0A1B2C is still being prepared and is not awaiting approval yet."),
        (request("executing"), "Request R0A1B2C is not awaiting approval (it is executing)."),
        (request("failed"), "Request R0A1B2C is not awaiting approval (it is failed)."),
    ],
)
def test_a_request_no_longer_pending_says_what_happened_and_by_whom(
    late: ApprovalRequest, message: str
) -> None:
    with pytest.raises(RequestNotPending) as caught:
        check_may_decide(late, CARL, (), APPROVAL, NOW)
    assert str(caught.value) == message
    assert caught.value.state == late.state
    assert caught.value.decided_by == late.decided_by_name


def test_an_expired_request_never_reads_as_rejected() -> None:
    with pytest.raises(RequestNotPending) as caught:
        check_may_decide(request("expired"), CARL, (), APPROVAL, NOW)
    assert "EXPIRED" in str(caught.value)
    assert "reject" not in str(caught.value).lower()


def test_a_pending_request_past_its_expiry_counts_as_expired_before_the_watcher_runs() -> None:
    overdue = request(expires_at=NOW - timedelta(minutes=1))
    with pytest.raises(RequestNotPending) as caught:
        check_may_decide(overdue, CARL, (), APPROVAL, NOW)
    assert caught.value.state == "expired"
    assert "EXPIRED on 2025-03-01 at 11:59 UTC" in str(caught.value)


def test_the_state_is_checked_before_the_person() -> None:
    with pytest.raises(RequestNotPending):
        check_may_decide(decided("approved"), DORA, (), APPROVAL, NOW)


# --- check_may_cancel ---------------------------------------------------------------------------


def test_the_requester_may_cancel_a_pending_request_from_any_front_end() -> None:
    check_may_cancel(request(), ADA)
    check_may_cancel(request(), Actor("U0ADA", "Ada", "mcp"), NOW)


def test_only_the_requester_may_cancel() -> None:
    with pytest.raises(NotAllowed) as caught:
        check_may_cancel(request(), CARL)
    assert caught.value.reason is Refusal.NOT_THE_REQUESTER
    assert caught.value.approvers is None


def test_a_decided_request_cannot_be_cancelled() -> None:
    with pytest.raises(RequestNotPending) as caught:
        check_may_cancel(decided("approved"), ADA)
    assert (caught.value.state, caught.value.decided_by) == ("approved", "Carl")


def test_an_overdue_request_cannot_be_cancelled_when_now_is_given() -> None:
    overdue = request(expires_at=NOW - timedelta(minutes=1))
    check_may_cancel(overdue, ADA)
    with pytest.raises(RequestNotPending) as caught:
        check_may_cancel(overdue, ADA, NOW)
    assert caught.value.state == "expired"


# --- actors -------------------------------------------------------------------------------------


def test_an_actor_label_says_how_they_acted() -> None:
    assert Actor("U1", "Ada", "slack").label == "Ada"
    assert Actor("U1", "Ada", "mcp").label == "Ada (via assistant)"
    assert Actor("U1", "Ada", "cli").label == "Ada (via CLI)"


def test_an_actor_spec_is_an_id_with_an_optional_display_name() -> None:
    assert parse_actor("U123:Ada Lovelace", "cli") == Actor("U123", "Ada Lovelace", "cli")
    assert parse_actor(" ada ", "mcp") == Actor("ada", "ada", "mcp")
    with pytest.raises(ValueError, match="actor id"):
        parse_actor(":Ada", "mcp")
