"""Item 7's database matrix: PostgreSQL dropped for a second at each transaction of approve → notice.

serve runs in-process (`inproc`) on PostgreSQL through `tools.tcp_proxy.TcpProxy`. Each case holds
back the call that comes just before one transaction — an Anaplan answer (a sandbox delay fault) or
a Slack answer (`FakeSlack.delay_next`) — and, the moment that call arrives, cuts the proxy for
`CUT` seconds: every open connection dropped, new ones refused. When the held answer comes, the
transaction meets the cut database. The windows, in the order of the path:

=================  =======================================  ===========================================
window             call held back                            transaction that meets the drop
=================  =======================================  ===========================================
card-delivered     ``chat.postMessage`` of the card          the card's outbox row marked sent + card_ref
decision           ``users.info`` of the approver            the request read + pending → approved CAS
executing          ``GET latestRevision`` (plan check)       approved → executing + start intent
task-record        ``POST syncTasks`` (carried out)          task id recorded, task tracked
outcome            ``GET syncTasks/{id}`` (COMPLETE)         executing → succeeded + its notices
dm-attempt         ``conversations.open`` of the DM          the DM's attempt marked started
dm-delivered       ``chat.postMessage`` of the DM            the DM's outbox row marked sent
=================  =======================================  ===========================================

A decision that met the drop was refused with "The database … does not answer", and the approver
clicks again (what the ephemeral message asks); everything else alm-bot must settle on its own. After
each case: the request is final within `BOUND` seconds of the database's return, Anaplan started one
sync, no task id is claimed twice, no Slack message (channel, thread, text) was posted twice, and the
requester got the "approved" DM and the result DM once each. The seconds from the database's
return to the final state and to an empty outbox are printed (``-s``).

A drop can also come between PostgreSQL's commit and its answer (a failover does that): the
transaction happened, the client hears a dropped line. The second matrix opens that window with
`TcpProxy.cut_after_commit` at the decision, the start intent, the task record and the outcome,
and asks the same of each case. (A notice whose "sent" commit goes unheard is the notice killed in
flight of `test_notice_killed`: its outcome is unknown, so it is looked up in Slack, not re-posted.)
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import pytest

from alm_bot.sandbox import seed
from alm_bot.store import ApprovalRequest
from tests.live import eventually
from tests.reliability.inproc import APPROVALS, APPROVER, REQUESTER, TASK_SECONDS, Bot, inproc
from tools.fake_slack_workspace import dm_channel_id

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

CUT = 1.0  # seconds the database is gone
HELD = 0.4  # seconds the call before the transaction is held: it ends inside the cut
BOUND = 30.0  # database back → request final: a lapsed request lease (10 s) + polling
PROD = f"/models/{seed.PROD_MODEL_ID}"
DM = dm_channel_id(REQUESTER)

Arm = Callable[[Bot], Awaitable[None]]  # arms the hold and returns once the held call arrived


async def anaplan_held(bot: Bot, method: str, path: str, *, advance: bool = False) -> None:
    # Arming and moving the clock in one step: no watcher poll can come in between.
    bot.sandbox.add_fault(method, path, delay=HELD)
    if advance:
        bot.sandbox.advance(TASK_SECONDS + 1)
    await eventually(lambda: not bot.sandbox.faults, f"{method} {path} to reach Anaplan")


async def slack_held(bot: Bot, method: str, where: Callable[[dict[str, object]], bool]) -> None:
    bot.fake.delay_next(method, HELD, where=where)
    await bot.fake.wait_for(method, where=lambda c: where(c.params), timeout=10)


def is_card(params: dict[str, object]) -> bool:
    return params.get("channel") == APPROVALS and not params.get("thread_ts")


def is_approved_dm(params: dict[str, object]) -> bool:
    return params.get("channel") == DM and "was approved" in str(params.get("text"))


WINDOWS: dict[str, tuple[str, Arm]] = {
    "card-delivered": ("request", lambda bot: slack_held(bot, "chat.postMessage", is_card)),
    "decision": ("approve", lambda bot: slack_held(bot, "users.info", lambda p: p.get("user") == APPROVER)),
    "executing": ("approve", lambda bot: anaplan_held(bot, "GET", f"{PROD}/alm/latestRevision$")),
    "task-record": ("approve", lambda bot: anaplan_held(bot, "POST", f"{PROD}/alm/syncTasks$")),
    "outcome": (
        "started",
        lambda bot: anaplan_held(bot, "GET", f"{PROD}/alm/syncTasks/[0-9A-F]+$", advance=True),
    ),
    "dm-attempt": ("approve", lambda bot: slack_held(bot, "conversations.open", lambda p: True)),
    "dm-delivered": ("approve", lambda bot: slack_held(bot, "chat.postMessage", is_approved_dm)),
}


async def pending_card(bot: Bot) -> ApprovalRequest:
    """A sync into prod requested, its card posted and the card's summary task recorded."""
    assert (await bot.slash("sync dev prod")).status_code == 200
    return await bot.carded()


async def started(bot: Bot, request_id: str) -> None:
    async def has_task() -> bool:
        current = await bot.services.store.get_request(request_id)
        return current is not None and current.anaplan_task_id is not None

    await eventually(has_task, "the sync to be recorded")


async def drop_during(bot: Bot, arm: Arm) -> float:
    """Arm the hold, cut the database when the held call arrives; the time the database is back."""
    assert bot.proxy is not None
    await arm(bot)
    await bot.proxy.cut(CUT)
    await anyio.sleep(CUT)  # the cut's own length: the database is gone for exactly this long
    return time.monotonic()


async def assert_settled_once(bot: Bot, done: ApprovalRequest, caplog: pytest.LogCaptureFixture) -> None:
    """Succeeded with one sync, the promises kept, each DM once, and the outage worded to whoever
    clicked ("does not answer"), never logged as a Slack listener's bug."""
    assert done.state == "succeeded", done.result
    await bot.assert_promises()
    assert bot.sync_posts(status=201) == 1
    assert len(bot.posts(lambda c: is_approved_dm(c.params))) == 1
    told = bot.posts(lambda c: c.params.get("channel") == DM and "succeeded" in c.params["text"])
    assert len(told) == 1
    bugs = [r.getMessage() for r in caplog.records if "unexpected error" in r.getMessage()]
    assert not bugs, bugs


async def approve_until_decided(bot: Bot, request_id: str) -> None:
    """Click Approve; again if the click met the dropped database (the request is still pending)."""
    request = await bot.services.store.get_request(request_id)
    assert request is not None
    if request.state == "pending":
        assert (await bot.approve(request)).status_code == 200


# The windows around the sync POST and the DM once failed 1 run in ~15 (request ended start_unconfirmed,
# "No task was found"): the drop came while PostgreSQL committed the start intent, the answer was
# lost, and the executor, taking the claim for failed, never sent the POST that recovery then could
# not find. `test_a_commit_whose_answer_is_lost_is_neither_lost_nor_done_twice` below opens that
# window on purpose; `TargetStarts` now asks the database again before giving a claim up.
@pytest.mark.parametrize("window", list(WINDOWS))
async def test_a_database_drop_at_any_transaction_of_an_approval_is_settled_once(
    database_url: str, tmp_path: Path, window: str, caplog: pytest.LogCaptureFixture
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the proxy stands in front of PostgreSQL's port")
    when, arm = WINDOWS[window]
    async with inproc(tmp_path, database_url, proxied=True) as bot:
        if when == "request":
            async with anyio.create_task_group() as tg:
                tg.start_soon(bot.slash, "sync dev prod")
                back = await drop_during(bot, arm)
            pending = await bot.carded()
            assert (await bot.approve(pending)).status_code == 200
        else:
            pending = await pending_card(bot)
            if when == "started":
                assert (await bot.approve(pending)).status_code == 200
                await started(bot, pending.id)
                back = await drop_during(bot, arm)
            else:
                async with anyio.create_task_group() as tg:
                    tg.start_soon(bot.approve, pending)
                    back = await drop_during(bot, arm)
                await eventually(lambda: bot.services.store.get_request(pending.id), "the database back")
                await approve_until_decided(bot, pending.id)

        done = await bot.final(pending.id, timeout=BOUND)
        final_after = time.monotonic() - back
        await bot.outbox_empty()
        drained_after = time.monotonic() - back
        print(
            f"\n{window}: {done.state} {final_after:.1f}s, outbox empty {drained_after:.1f}s after the drop"
        )

        assert bot.proxy is not None
        assert bot.proxy.refused >= 1  # something did meet the dropped database
        if window == "decision":
            (refusal,) = [c for c in bot.fake.of("chat.postEphemeral") if c.params.get("user") == APPROVER]
            assert "does not answer" in refusal.params["text"], refusal.params
        await assert_settled_once(bot, done, caplog)


# The commit that happens unheard: PostgreSQL commits, the answer is lost with the line (what a
# failover does). Each case arms the proxy on bytes only that transaction sends: a parameter's value
# or a JSON key in one. Not SQL text: a column name is in every SELECT of its table, and asyncpg
# sends a statement's text only the first time a connection prepares it. The decision is armed
# before the click, the others once the Anaplan call before them arrives; the decision and the
# intent show that their own commit was the one cut.
UNHEARD: dict[str, tuple[bytes, str, Arm | None]] = {
    "decision": (b"grace", "click", None),  # pending → approved, by whom: the approver's Slack name
    "start-intent": (b'"target_revision_id"', *WINDOWS["executing"]),  # approved → executing + intent
    "task-record": (b'"task_id"', *WINDOWS["task-record"]),  # the task id recorded (its audit)
    "outcome": (b'"successful"', *WINDOWS["outcome"]),  # executing → succeeded + its notices
}


@pytest.mark.parametrize("transaction", list(UNHEARD))
async def test_a_commit_whose_answer_is_lost_is_neither_lost_nor_done_twice(
    database_url: str, tmp_path: Path, transaction: str, caplog: pytest.LogCaptureFixture
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the proxy stands in front of PostgreSQL's port")
    mark, when, arrived = UNHEARD[transaction]
    async with inproc(tmp_path, database_url, proxied=True) as bot:
        assert bot.proxy is not None
        pending = await pending_card(bot)
        if arrived is None:
            bot.proxy.cut_after_commit(CUT, marked=mark)
            assert (await bot.approve(pending)).status_code == 200
        elif when == "started":
            assert (await bot.approve(pending)).status_code == 200
            await started(bot, pending.id)
            await arrived(bot)
            bot.proxy.cut_after_commit(CUT, marked=mark)
        else:
            async with anyio.create_task_group() as tg:
                tg.start_soon(bot.approve, pending)
                await arrived(bot)
                bot.proxy.cut_after_commit(CUT, marked=mark)
        await eventually(lambda: bot.proxy is not None and bot.proxy.commits_unheard == 1, "the commit")
        back = time.monotonic() + CUT

        if transaction == "decision":
            to_approver = await bot.fake.wait_for(
                "chat.postEphemeral", where=lambda c: c.params.get("user") == APPROVER, timeout=10
            )
            assert "does not answer" in to_approver[0].params["text"], to_approver[0].params
        done = await bot.final(pending.id, timeout=BOUND)
        settled = time.monotonic() - back
        print(f"\ncommit unheard at {transaction}: {done.state} {settled:.1f}s after the drop")
        await bot.outbox_empty()
        if transaction == "start-intent":
            assert any("the answer was lost" in r.getMessage() for r in caplog.records)
        await assert_settled_once(bot, done, caplog)
