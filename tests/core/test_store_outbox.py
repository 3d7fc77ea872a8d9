"""The outbox: deduplicated notices, leased delivery, sent exactly once, retries and giving up."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from concurrently import run_concurrently
from store_builders import T0, add_pending, mark_sent

from alm_bot.records import RequestUpdated
from alm_bot.store import OutboxRow, Store, Transaction

pytestmark = pytest.mark.anyio

LEASE = timedelta(seconds=30)


async def enqueue(store: Store, key: str, **kwargs: object) -> bool:
    async with store.transaction() as tx:
        return await tx.enqueue("card", RequestUpdated(request_id="R1"), key, **kwargs)  # type: ignore[arg-type]


async def test_a_notice_with_a_used_dedupe_key_is_not_queued_again(store: Store) -> None:
    assert await enqueue(store, "updated:R1:approved") is True
    assert await enqueue(store, "updated:R1:approved") is False
    assert await enqueue(store, "updated:R1:executing") is True
    assert [row.dedupe_key for row in await store.list_outbox()] == [
        "updated:R1:approved",
        "updated:R1:executing",
    ]


async def test_concurrent_enqueues_of_one_key_queue_one_notice(store: Store) -> None:
    outcomes = await run_concurrently([lambda: enqueue(store, "same") for _ in range(8)])
    assert outcomes.count(True) == 1
    assert len(await store.list_outbox()) == 1


async def test_a_notice_is_claimed_with_its_payload_once_it_is_due(store: Store) -> None:
    await enqueue(store, "later", not_before=T0 + timedelta(minutes=1))
    assert await store.claim_due_outbox("w1", T0, LEASE, limit=10) == []

    (row,) = await store.claim_due_outbox("w1", T0 + timedelta(minutes=1), LEASE, limit=10)

    assert (row.kind, row.destination, row.payload) == (
        "request_updated",
        "card",
        RequestUpdated(request_id="R1"),
    )
    assert (row.lease_owner, row.lease_expires_at, row.attempts) == (
        "w1",
        T0 + timedelta(minutes=1) + LEASE,
        1,
    )


async def test_concurrent_deliverers_never_get_the_same_notice(store: Store) -> None:
    for n in range(9):
        await enqueue(store, f"k{n}", not_before=T0)
    batches = await run_concurrently(
        [partial(store.claim_due_outbox, f"w{n}", T0, LEASE, 2) for n in range(6)]
    )
    claimed = [row.id for batch in batches for row in batch]
    assert len(claimed) == len(set(claimed)) == 9


async def test_a_sent_notice_records_its_receipt_and_is_never_claimed_again(store: Store) -> None:
    await enqueue(store, "k", not_before=T0)
    (row,) = await store.claim_due_outbox("w1", T0, LEASE, limit=1)

    assert await mark_sent(store, row.id, "w1", {"ts": "171.1"}) is True
    assert await mark_sent(store, row.id, "w1", {"ts": "171.2"}) is False

    (sent,) = await store.list_outbox(sent=True)
    assert (sent.receipt, sent.lease_owner) == ({"ts": "171.1"}, None)
    assert sent.sent_at is not None
    assert await store.list_outbox(sent=False) == []
    assert await store.claim_due_outbox("w2", T0 + timedelta(days=1), LEASE, limit=1) == []


async def test_the_card_is_remembered_in_the_transaction_that_marks_it_sent(store: Store) -> None:
    request = await add_pending(store)
    await enqueue(store, "card", not_before=T0)
    (row,) = await store.claim_due_outbox("w1", T0, LEASE, limit=1)

    async def remember_card(tx: Transaction, sent: OutboxRow) -> None:
        await tx.update_request(request.id, card_ref=f"C0APPROVALS {sent.receipt['ts']}")  # type: ignore[index]

    assert await mark_sent(store, row.id, "w1", {"ts": "171.1"}, then=remember_card) is True
    assert await store.find_request_by_card("C0APPROVALS 171.1") is not None


async def test_when_remembering_fails_the_notice_stays_unsent(store: Store) -> None:
    await enqueue(store, "k", not_before=T0)
    (row,) = await store.claim_due_outbox("w1", T0, LEASE, limit=1)

    async def broken(tx: Transaction, sent: OutboxRow) -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await mark_sent(store, row.id, "w1", None, then=broken)
    assert [r.id for r in await store.list_outbox(sent=False)] == [row.id]


async def test_a_deliverer_whose_lease_ran_out_cannot_mark_the_notice(store: Store) -> None:
    await enqueue(store, "k", not_before=T0)
    (row,) = await store.claim_due_outbox("slow", T0, LEASE, limit=1)
    (again,) = await store.claim_due_outbox("w2", T0 + LEASE, LEASE, limit=1)

    assert again.attempts == 2
    assert await mark_sent(store, row.id, "slow", None) is False
    assert await store.mark_failed(row.id, "slow", T0, "late") is False
    assert await mark_sent(store, row.id, "w2", None) is True


async def test_a_failed_delivery_is_retried_at_the_given_time(store: Store) -> None:
    await enqueue(store, "k", not_before=T0)
    (row,) = await store.claim_due_outbox("w1", T0, LEASE, limit=1)

    assert await store.mark_failed(row.id, "w1", T0 + timedelta(minutes=2), "ratelimited " * 500) is True

    (failed,) = await store.list_outbox()
    assert failed.last_error is not None
    assert failed.last_error.startswith("ratelimited")
    assert len(failed.last_error) == 2000
    assert failed.lease_owner is None
    assert await store.claim_due_outbox("w1", T0 + timedelta(minutes=1), LEASE, limit=1) == []
    (retried,) = await store.claim_due_outbox("w1", T0 + timedelta(minutes=2), LEASE, limit=1)
    assert retried.attempts == 2


async def test_a_delivery_given_up_is_never_claimed_again(store: Store) -> None:
    await enqueue(store, "k", not_before=T0)
    (row,) = await store.claim_due_outbox("w1", T0, LEASE, limit=1)
    assert await store.mark_failed(row.id, "w1", None, "channel_not_found") is True
    assert await store.claim_due_outbox("w1", T0 + timedelta(days=365), LEASE, limit=1) == []
    (given_up,) = await store.list_outbox(sent=False)
    assert (given_up.next_attempt_at, given_up.last_error) == (None, "channel_not_found")
