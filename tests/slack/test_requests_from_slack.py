"""Only Slack may talk to the bot, and whatever Slack relays, the bot answers politely.

Unsigned, wrongly signed or replayed requests are refused with 401 before anything runs; any text
typed after /alm gets a 200 with a private usage or error message — never a 500, never a traceback.
"""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alm_bot.slack.parsing import SUBCOMMANDS, Invocation, parse
from tests.world import SECRET, World, text_of
from tools.fake_slack import sign, slash_command_body

pytestmark = pytest.mark.anyio

STALE = int(time.time()) - 6 * 60


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(lambda body: {"Content-Type": "application/x-www-form-urlencoded"}, id="missing"),
        pytest.param(lambda body: sign(body, "not-the-secret"), id="wrong"),
        pytest.param(lambda body: sign(body, SECRET, timestamp=STALE), id="stale"),
        pytest.param(lambda body: sign(body + " ", SECRET), id="for-another-body"),
    ],
)
async def test_a_request_without_a_valid_signature_is_refused_and_changes_nothing(
    world: World, headers: object
) -> None:
    body = slash_command_body("sync dev prod", response_url=world.fake.response_url("forged"))
    reply = await world.send(body, headers=headers(body))  # type: ignore[operator]
    assert reply.status_code == 401
    assert world.fake.calls == []
    assert await world.services.store.list_requests() == []
    assert world.sandbox.request_log == []


async def test_a_correctly_signed_request_is_accepted(world: World) -> None:
    body = slash_command_body("help", response_url=world.fake.response_url("genuine"))
    assert (await world.send(body, headers=sign(body, SECRET))).status_code == 200


command_text = st.one_of(
    st.text(max_size=60),
    st.builds(
        lambda name, rest: f"{name} {rest}",
        st.sampled_from(sorted(SUBCOMMANDS)),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    ),
    st.builds(
        lambda name, quote, rest: f"{name} {quote}{rest}",
        st.sampled_from(sorted(SUBCOMMANDS)),
        st.sampled_from(['"', "'", "“", "&amp;", "&lt;", "--", "—"]),
        st.text(max_size=20),
    ),
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=command_text)
async def test_any_command_text_gets_a_private_answer_and_never_an_error_page(
    world: World, text: str
) -> None:
    try:
        opens_form = parse(text) == Invocation("sync")
    except ValueError:
        opens_form = False
    reply, name = await world.command(text)
    assert reply.status_code == 200
    if opens_form:
        await world.fake.wait_for("views.open")
        return
    answer = json.loads(reply.text) if reply.text else {}
    if not answer or "Working on it" in answer.get("text", ""):
        answer = await world.answer(name)
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert shown.strip()
    assert "Traceback" not in shown
    assert "something went wrong" not in shown
