"""Approval requests in the store: ids, compare-and-set transitions, queries, expiry, time zones."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from concurrently import run_concurrently
from store_builders import ADA, BOB, PROD, SYNC_PLAN, T0, add_pending, expire_due, new_request

from alm_bot.anaplan.models import SummaryReport
from alm_bot.records import ApprovalNeeded, ModelRef, RequestExpired, StatusPlan
from alm_bot.store import (
    APPROVED,
    EXPIRED,
    PENDING,
    REJECTED,
    REQUESTED,
    ApprovalRequest,
    Store,
)

pytestmark = pytest.mark.anyio

STATUS_PLAN = StatusPlan(model=ModelRef(id=PROD, name="FP&A PROD"), from_state="PRODUCTION", status="offline")


async def test_a_new_request_gets_a_short_id_in_crockford_base32(store: Store) -> None:
    async with store.transaction() as tx:
        request = await tx.insert_request(new_request())
    assert re.fullmatch(r"R[0-9A-HJKMNP-TV-Z]{6}", request.id)
    assert request.state == REQUESTED
    assert await store.get_request(request.id) == request


async def test_a_taken_request_id_is_replaced_by_a_fresh_one(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.insert_request(new_request(id="R000000"))
        second = await tx.insert_request(new_request(id="R000000"))
    assert first.id == "R000000"
    assert second.id != "R000000"
    assert {r.id for r in await store.list_requests()} == {first.id, second.id}


async def test_a_request_id_is_found_however_a_person_types_it(store: Store) -> None:
    async with store.transaction() as tx:
        request = await tx.insert_request(new_request(id="R0A1B2C"))
    assert await store.get_request(" roa1b2c ") == request
    assert await store.get_request("R0AlB2C") == request


async def test_a_new_request_must_start_as_requested(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="starts as 'requested'"):
            await tx.insert_request(new_request(state=PENDING))


async def test_a_transition_changes_the_state_and_the_given_fields(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        approved = await tx.transition(
            request.id, [PENDING], APPROVED, decided_by_id=BOB.id, decided_by_name=BOB.name, decided_at=T0
        )
    assert approved is not None
    assert (approved.state, approved.decided_by_name, approved.decided_at) == (APPROVED, "Bob", T0)
    assert approved.updated_at >= request.updated_at
    assert await store.get_request(request.id) == approved


async def test_a_transition_from_another_state_changes_nothing_and_returns_none(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        assert await tx.transition(request.id, [PENDING], REJECTED, reason="no") is not None
        assert await tx.transition(request.id, [PENDING], APPROVED, decided_by_id=BOB.id) is None
    stored = await store.get_request(request.id)
    assert stored is not None
    assert (stored.state, stored.decided_by_id, stored.reason) == (REJECTED, None, "no")


async def test_a_transition_of_an_unknown_request_returns_none(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.transition("R999999", [PENDING], APPROVED) is None


@pytest.mark.parametrize(
    ("from_states", "to_state"),
    [([PENDING], "succeeded"), ([REQUESTED, PENDING], APPROVED), (["expired"], PENDING), ([PENDING], "done")],
)
async def test_a_transition_outside_the_state_machine_is_a_programming_error(
    store: Store, from_states: list[str], to_state: str
) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match=r"cannot go from|unknown request state"):
            await tx.transition(request.id, from_states, to_state)


async def test_a_transition_refuses_fields_that_identify_the_request(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        with pytest.raises(ValueError, match="cannot set requester_id"):
            await tx.transition(request.id, [PENDING], APPROVED, requester_id=BOB.id)


async def test_twenty_concurrent_approvals_have_exactly_one_winner(store: Store) -> None:
    request = await add_pending(store)

    def approve_as(number: int) -> Callable[[], Awaitable[ApprovalRequest | None]]:
        async def approve() -> ApprovalRequest | None:
            async with store.transaction() as tx:
                return await tx.transition(request.id, [PENDING], APPROVED, decided_by_id=f"U{number}")

        return approve

    outcomes = await run_concurrently([approve_as(n) for n in range(20)])
    winners = [o for o in outcomes if o is not None]
    assert len(winners) == 1
    stored = await store.get_request(request.id)
    assert stored is not None
    assert stored.decided_by_id == winners[0].decided_by_id


async def test_update_request_sets_card_plan_and_task_but_not_the_state(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        updated = await tx.update_request(
            request.id,
            card_ref="C1 171.5",
            plan=STATUS_PLAN,
            anaplan_task_id="T9",
        )
        with pytest.raises(ValueError, match="cannot set state"):
            await tx.update_request(request.id, state=APPROVED)
    assert updated is not None
    assert (updated.card_ref, updated.anaplan_task_id) == ("C1 171.5", "T9")
    assert updated.plan == STATUS_PLAN
    assert updated.state == PENDING


async def test_update_of_an_unknown_request_returns_none(store: Store) -> None:
    async with store.transaction() as tx:
        assert await tx.update_request("R999999", card_ref="C1 1") is None


async def test_a_transaction_that_raises_leaves_nothing_behind(store: Store) -> None:
    class Boom(Exception):
        pass

    async def doomed() -> None:
        async with store.transaction() as tx:
            request = await tx.insert_request(new_request())
            await tx.audit("requested", ADA, request_id=request.id)
            await tx.enqueue("approvals", ApprovalNeeded(request_id=request.id), dedupe_key="card:1")
            raise Boom

    with pytest.raises(Boom):
        await doomed()
    assert await store.list_requests() == []
    assert await store.list_audit() == []
    assert await store.list_outbox() == []


async def test_reads_inside_a_transaction_see_its_own_writes(store: Store) -> None:
    async with store.transaction() as tx:
        request = await tx.insert_request(new_request())
        assert await tx.get_request(request.id) == request


async def test_list_requests_filters_by_state_requester_and_model_newest_first(store: Store) -> None:
    older = await add_pending(store, created_at=T0)
    newer = await add_pending(store, created_at=T0 + timedelta(minutes=1))
    bobs = await add_pending(store, created_at=T0 + timedelta(minutes=2), requester_id=BOB.id)
    other_model = await add_pending(store, created_at=T0 + timedelta(minutes=3), target_model_id="A" * 32)
    async with store.transaction() as tx:
        await tx.transition(older.id, [PENDING], REJECTED)

    assert [r.id for r in await store.list_requests()] == [other_model.id, bobs.id, newer.id, older.id]
    assert [
        r.id for r in await store.list_requests(states=[PENDING], requester_id=ADA.id, model_id=PROD)
    ] == [newer.id]
    assert [r.id for r in await store.list_requests(states=[REJECTED])] == [older.id]
    assert len(await store.list_requests(limit=2)) == 2


async def test_a_request_is_found_by_its_approval_card(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        await tx.update_request(request.id, card_ref="C0APPROVALS 1700000000.000100")
    found = await store.find_request_by_card("C0APPROVALS 1700000000.000100")
    assert found is not None
    assert found.id == request.id
    assert await store.find_request_by_card("C0APPROVALS 1700000000.000200") is None


async def test_audit_events_are_listed_by_model_and_request_newest_first(store: Store) -> None:
    request = await add_pending(store)
    async with store.transaction() as tx:
        await tx.audit("requested", ADA, request_id=request.id, model_id=PROD, detail={"n": 1})
        await tx.audit("approved", BOB, request_id=request.id, model_id=PROD)
        await tx.audit("revision_created", ADA, model_id="A" * 32)
        await tx.audit("watcher_started", None)

    assert [e.action for e in await store.list_audit(request_id=request.id)] == ["approved", "requested"]
    assert [e.action for e in await store.list_audit(model_id="A" * 32)] == ["revision_created"]
    newest = (await store.list_audit(limit=1))[0]
    assert (newest.action, newest.actor_id, newest.origin) == ("watcher_started", None, None)
    first = (await store.list_audit(request_id=request.id))[-1]
    assert (first.actor_id, first.actor_name, first.origin, first.detail) == (
        ADA.id,
        "Ada",
        "slack",
        {"n": 1},
    )


async def test_expire_due_expires_only_pending_requests_past_their_expiry(store: Store) -> None:
    due = await add_pending(store, expires_at=T0 + timedelta(hours=1))
    later = await add_pending(store, expires_at=T0 + timedelta(hours=3))
    decided = await add_pending(store, expires_at=T0 + timedelta(hours=1))
    async with store.transaction() as tx:
        await tx.transition(decided.id, [PENDING], APPROVED)

    expired = await expire_due(store, T0 + timedelta(hours=1))

    assert [r.id for r in expired] == [due.id]
    assert expired[0].state == EXPIRED
    states = {r.id: r.state for r in await store.list_requests()}
    assert states == {due.id: EXPIRED, later.id: PENDING, decided.id: APPROVED}


async def test_concurrent_expiry_returns_each_request_exactly_once(store: Store) -> None:
    requests = [await add_pending(store, expires_at=T0) for _ in range(6)]
    batches = await run_concurrently([lambda: expire_due(store, T0 + timedelta(seconds=1)) for _ in range(5)])
    expired_ids = [r.id for batch in batches for r in batch]
    assert sorted(expired_ids) == sorted(r.id for r in requests)


async def test_what_follows_an_expiry_commits_with_it_or_not_at_all(store: Store) -> None:
    request = await add_pending(store, expires_at=T0)

    async def expire_then_break() -> None:
        async with store.transaction() as tx:
            (expired,) = await tx.expire_due(T0)
            await tx.enqueue("card", RequestExpired(request_id=expired.id), f"expired:{expired.id}")
            raise RuntimeError("notifier broken")

    with pytest.raises(RuntimeError):
        await expire_then_break()
    stored = await store.get_request(request.id)
    assert stored is not None
    assert stored.state == PENDING
    assert await store.list_outbox() == []


async def test_datetimes_come_back_aware_in_utc_whatever_zone_went_in(store: Store) -> None:
    paris = timezone(timedelta(hours=2))
    created = datetime(2025, 6, 1, 14, 30, 15, 123456, tzinfo=paris)
    request = await add_pending(store, created_at=created, expires_at=created + timedelta(days=1))
    stored = await store.get_request(request.id)
    assert stored is not None
    assert stored.created_at == created
    assert stored.created_at.tzinfo == UTC
    assert stored.created_at.hour == 12
    assert stored.expires_at == created + timedelta(days=1)
    assert stored.updated_at.tzinfo == UTC


async def test_a_naive_datetime_is_refused(store: Store) -> None:
    async with store.transaction() as tx:
        with pytest.raises(sa.exc.StatementError, match="naive datetime"):
            await tx.insert_request(new_request(created_at=datetime(2025, 1, 1, 12, 0)))


async def test_json_fields_round_trip_nested_values(store: Store) -> None:
    summary = SummaryReport.model_validate(
        {
            "sourceRevisionId": "REV1",
            "targetRevisionId": "REV0",
            "totals": {"created": 2},
            "differences": {"Modules": {"modified": 1}},
        }
    )
    target = SYNC_PLAN.target.model_copy(update={"summary": summary})
    plan = SYNC_PLAN.model_copy(update={"targets": (target,), "source": ModelRef(id="D1", name="é")})
    request = await add_pending(store, plan=plan, parameters={"revision": None, "full": True})
    stored = await store.get_request(request.id)
    assert stored is not None
    assert stored.plan == plan
    assert stored.parameters == {"revision": None, "full": True}
    assert stored.result is None
