"""Item 7's Anaplan matrix: a 500 and a timeout at each Anaplan call of approve → sync → notice.

The calls, in the order an approval makes them (the sandbox's request log of a clean run):

==================  ==================================================  =========================
call                request                                             who makes it
==================  ==================================================  =========================
login               ``POST /token/authenticate`` (the token expired)    the click's first call
model               ``GET /models/{prod}`` (the target re-read)         Execution
plan check          ``GET …/alm/latestRevision``                        the stale-plan check
task list           ``GET …/alm/syncTasks`` (before the POST)           task creation
sync POST           ``POST …/alm/syncTasks``                            task creation
task poll           ``GET …/alm/syncTasks/{id}``                        the watcher
==================  ==================================================  =========================

Each call meets each fault on each database (6 calls × 2 faults × SQLite and PostgreSQL = 24 cases,
in-process — see `inproc`):

- ``500``: Anaplan answers 500 to every try the client makes (``RetryPolicy().attempts``), so the
  failure reaches alm-bot itself, not only the client's retries;
- ``timeout``: Anaplan holds its answer past the client's 1 s timeout once; on the sync POST it
  carries the POST out first (the worst case: the sync started, alm-bot never heard so).

Afterwards, for every case: the request is final within `BOUND` seconds of the click; Anaplan
started at most one sync; no task id is claimed twice; no Slack message (channel, thread, text)
was posted twice; the requester got the "approved" DM and the result DM once each, and a sync that
started was announced once in the card's thread.
The seconds from the click to the final state are printed (``-s``) per case.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from alm_bot.anaplan.retry import RetryPolicy
from alm_bot.sandbox import seed
from tests.live import eventually
from tests.reliability.inproc import APPROVALS, TASK_SECONDS, Bot, inproc
from tools.fake_slack_workspace import dm_channel_id

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

BOUND = 40.0  # click → final: the client's retries (≤ 7.5 s), alm-bot's re-check backoff, polling
PROD = f"/models/{seed.PROD_MODEL_ID}"
CALLS: dict[str, tuple[str, str]] = {
    "login": ("POST", r"^/token/authenticate$"),
    "model": ("GET", f"{PROD}$"),
    "plan-check": ("GET", f"{PROD}/alm/latestRevision$"),
    "task-list": ("GET", f"{PROD}/alm/syncTasks$"),
    "sync-post": ("POST", f"{PROD}/alm/syncTasks$"),
    "task-poll": ("GET", f"{PROD}/alm/syncTasks/[0-9A-F]+$"),
}
FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500, "times": RetryPolicy().attempts},
    "timeout": {"delay": 2.5, "times": 1},
}
TOKEN_LIFETIME = 35 * 60 + 1


async def card_ready(bot: Bot) -> str:
    """Request a sync into prod; wait until its card and the card's comparison summary are done."""
    assert (await bot.slash("sync dev prod")).status_code == 200
    pending = await bot.carded()
    bot.sandbox.advance(TASK_SECONDS + 1)  # the card's summary task ends

    async def summarised() -> bool:
        return not await bot.services.store.list_tasks(state="active")

    await eventually(summarised, "the card's summary task to be recorded")
    await bot.outbox_empty()
    return pending.id


@pytest.mark.parametrize("fault", list(FAULTS))
@pytest.mark.parametrize("call", list(CALLS))
async def test_a_fault_at_any_anaplan_call_of_an_approval_ends_the_request_once_and_tells_once(
    database_url: str, tmp_path: Path, call: str, fault: str
) -> None:
    async with inproc(tmp_path, database_url) as bot:
        request_id = await card_ready(bot)
        if call == "login":
            bot.sandbox.advance(TOKEN_LIFETIME)  # no task runs: the next call is the click's
        method, path = CALLS[call]
        bot.sandbox.add_fault(method, path, **FAULTS[fault])
        clicked = time.monotonic()
        pending = await bot.services.store.get_request(request_id)
        assert pending is not None
        assert (await bot.approve(pending)).status_code == 200

        done = await bot.final(request_id, timeout=BOUND)
        settled = time.monotonic() - clicked
        await bot.outbox_empty()
        print(f"\n{call} × {fault}: {done.state} after {settled:.1f}s ({done.result and done.result.cause})")

        assert not bot.sandbox.faults, "the fault was never met"
        await bot.assert_promises()
        assert bot.sync_posts(status=201) <= 1
        dm = dm_channel_id("U0REQUESTER")
        approved = bot.posts(lambda c: c.params.get("channel") == dm and "was approved" in c.params["text"])
        assert len(approved) == 1
        told = bot.posts(
            lambda c: c.params.get("channel") == dm and c.params["text"].endswith(f" {done.state}.")
        )
        assert len(told) == 1, [c.params["text"] for c in bot.posts()]
        replies = bot.posts(
            lambda c: (
                c.params.get("channel") == APPROVALS
                and bool(c.params.get("thread_ts"))
                and c.params["text"].endswith(f"({request_id}): {done.state}")
            )
        )
        # A sync that started is announced in the card's thread; one refused before it started is
        # said on the card itself (chat.update) and to the requester.
        assert len(replies) == (1 if done.anaplan_task_id else 0), [c.params["text"] for c in bot.posts()]
