"""Every /alm subcommand, typed as Slack sends it (signed HTTP), answered privately by the real bot.

Reads and changes go to the sandbox through the real core and a real SQLite file; answers are
read where Slack would show them: the acknowledgement body or the command's response_url.
"""

from __future__ import annotations

import json

import pytest

from alm_bot.sandbox import seed
from tests.world import APPROVALS, APPROVER, REQUESTER, World, text_of

pytestmark = pytest.mark.anyio


def ack_body(reply_text: str) -> dict[str, object]:
    body = json.loads(reply_text)
    assert body["response_type"] == "ephemeral"
    return body


@pytest.mark.parametrize("text", ["help", "", "  "])
async def test_help_lists_one_usage_line_per_subcommand_in_the_acknowledgement(
    world: World, text: str
) -> None:
    reply, name = await world.command(text)
    body = ack_body(reply.text)
    shown = text_of(body)
    for usage in (
        "/alm models [filter]",
        "/alm sync &lt;source&gt; &lt;target&gt; [&lt;revision&gt;]",
        "/alm requests [mine|pending]",
        "/alm audit [&lt;model&gt;]",
        "/alm policy &lt;model&gt;",
    ):
        assert usage in shown
    assert world.fake.responses(name) == []


async def test_unknown_input_shows_help_and_names_what_was_not_understood(world: World) -> None:
    reply, _ = await world.command("deploy prod")
    shown = text_of(ack_body(reply.text))
    assert "I don't know `/alm deploy`" in shown
    assert "/alm models [filter]" in shown


async def test_a_usage_mistake_is_answered_at_once_with_the_right_usage(world: World) -> None:
    reply, _ = await world.command("syncable dev")
    shown = text_of(ack_body(reply.text))
    assert "needs &lt;target&gt;" in shown
    assert "Usage: /alm syncable" in shown


async def test_an_unbalanced_quote_is_explained(world: World) -> None:
    reply, _ = await world.command('revision dev "Q4 release')
    assert "unbalanced quote" in text_of(ack_body(reply.text))


async def test_models_lists_every_model_with_alias_and_protection(world: World) -> None:
    answer = await world.ask("models")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "*FP&amp;A DEV* `dev`" in shown
    assert "*FP&amp;A PROD* `prod` · 🔒 protected" in shown
    assert seed.PROD_MODEL_ID in shown


async def test_models_with_a_filter_lists_only_matching_models(world: World) -> None:
    shown = text_of(await world.ask("models workforce"))
    assert "Workforce Planning" in shown
    assert "FP&amp;A" not in shown.replace("FP&amp;A ·", "")  # workspace names aside


async def test_revisions_lists_a_models_revisions_newest_first(world: World) -> None:
    shown = text_of(await world.ask("revisions dev"))
    names = [seed.R4_NAME, seed.R3_NAME, seed.R2_NAME, seed.R1_NAME]
    positions = [shown.index(f"*{n}*") for n in names]
    assert positions == sorted(positions)


async def test_models_can_be_named_by_exact_name_in_quotes(world: World) -> None:
    shown = text_of(await world.ask('latest "FP&A PROD"'))
    assert f"*{seed.R2_NAME}*" in shown


async def test_models_can_be_named_by_id(world: World) -> None:
    assert f"*{seed.R2_NAME}*" in text_of(await world.ask(f"latest {seed.PROD_MODEL_ID}"))


async def test_a_mistyped_model_gets_a_suggestion_and_what_to_do_next(world: World) -> None:
    answer = await world.ask("latest prd")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "prd is not an alias, model id or model name — did you mean prod?" in shown
    assert "Try `/alm models`" in shown


async def test_syncable_lists_the_revisions_the_target_can_take(world: World) -> None:
    shown = text_of(await world.ask("syncable dev prod"))
    assert f"*{seed.R4_NAME}*" in shown
    assert f"*{seed.R3_NAME}*" in shown
    assert f"*{seed.R2_NAME}*" not in shown


async def test_applied_lists_the_models_a_revision_went_into(world: World) -> None:
    shown = text_of(await world.ask(f'applied dev "{seed.R1_NAME}"'))
    assert "Revision Initial build is in 6 models" in shown
    assert f"*FP&amp;A TEST* `{seed.TEST_MODEL_ID}`" in shown
    assert f"`{seed.DELETED_MODEL_ID}`" not in shown, "Anaplan leaves a deleted model's id out"
    assert "*a deleted model* · applied" in shown
    assert "(model deleted)" in shown


async def test_tasks_says_when_there_are_none(world: World) -> None:
    assert "No sync tasks into FP&amp;A PROD (prod)." in text_of(await world.ask("tasks prod"))


async def test_revision_creates_a_revision_the_next_latest_shows(world: World) -> None:
    reply, name = await world.command('revision dev "Q4 release" "New cost centres"')
    assert "Working on it" in ack_body(reply.text)["text"]
    shown = text_of(await world.answer(name))
    assert "Created revision *Q4 release*" in shown
    assert "*Q4 release*" in text_of(await world.ask("latest dev"))


async def test_sync_into_a_protected_model_waits_for_approval_and_posts_a_card(world: World) -> None:
    shown = text_of(await world.ask("sync dev prod"))
    request = await world.only_request()
    assert request.state == "pending"
    assert f"request *{request.id}* is waiting in <#{APPROVALS}>" in shown
    assert "<@U0APPROVER1> or <@U0APPROVER2>" in shown
    assert f"/alm cancel {request.id}" in shown
    await world.settle()
    (post,) = world.fake.of("chat.postMessage")
    assert post.params["channel"] == APPROVALS
    assert "Approve" in text_of(post.params)


async def test_sync_of_a_named_revision_plans_that_revision(world: World) -> None:
    await world.ask(f'sync dev prod "{seed.R3_NAME}"')
    assert (await world.only_request()).plan.source_revision.id == seed.R3_ID


async def test_sync_without_arguments_opens_a_form_with_model_pickers(world: World) -> None:
    reply, name = await world.command("sync")
    assert reply.status_code == 200
    (opened,) = await world.fake.wait_for("views.open")
    assert opened.params["trigger_id"].startswith("1111.2222.slash.")  # the command's own
    view = opened.params["view"]
    assert view["callback_id"] == "alm_sync_form"
    pickers = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    assert pickers["source"]["type"] == pickers["target"]["type"] == "static_select"
    labels = [o["text"]["text"] for o in pickers["target"]["options"]]
    assert "FP&A PROD (prod) 🔒" in labels
    assert pickers["revision"]["type"] == "plain_text_input"

    values = {
        "source": {"model": {"type": "static_select", "selected_option": {"value": seed.DEV_MODEL_ID}}},
        "target": {"model": {"type": "static_select", "selected_option": {"value": seed.PROD_MODEL_ID}}},
        "revision": {"value": {"type": "plain_text_input", "value": None}},
    }
    submitted = await world.submit(
        "alm_sync_form", values, user=REQUESTER, private_metadata=view["private_metadata"]
    )
    assert submitted.status_code == 200
    assert submitted.text == ""  # the form closes
    shown = text_of(await world.answer(name))
    request = await world.only_request()
    assert f"request *{request.id}* is waiting" in shown
    assert request.plan.source_revision.id == seed.R4_ID


async def test_compare_sends_the_summary_by_direct_message_when_anaplan_has_it(world: World) -> None:
    shown = text_of(await world.ask("compare dev prod"))
    assert "Comparing revision *Capex module* of FP&amp;A DEV `dev` with FP&amp;A PROD `prod`" in shown
    await world.settle()
    (opened,) = world.fake.of("conversations.open")
    assert opened.params["users"] == REQUESTER
    (dm,) = world.fake.of("chat.postMessage")
    assert dm.params["channel"] == "D0REQUESTER"
    assert "• Line items: 5 created, 2 modified" in text_of(dm.params)


async def test_compare_full_uploads_the_report_as_a_file(world: World) -> None:
    await world.ask("compare dev prod --full")
    await world.settle()
    (completed,) = world.fake.of("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0REQUESTER"
    (upload,) = world.fake.of("upload")
    assert b"=== LINE ITEMS ADDED ===" in upload.body
    (stored,) = world.fake.workspace.files.values()
    assert stored["name"] == "comparison-dev-prod-capex-module.txt"


async def test_offline_of_an_unprotected_model_happens_at_once(world: World) -> None:
    shown = text_of(await world.ask("offline dev"))
    assert "FP&amp;A DEV is now offline." in shown
    assert (await world.only_request()).state == "succeeded"


async def test_online_of_a_protected_model_asks_for_approval_with_a_status_card(world: World) -> None:
    await world.ask("online prod")
    request = await world.only_request()
    assert request.state == "pending"
    await world.settle()
    card = text_of(world.card(await world.request(request.id)))
    assert "Take FP&A PROD online" in card
    assert "PRODUCTION → *online*" in card


async def test_requests_lists_recent_mine_and_pending(world: World) -> None:
    await world.ask("sync dev prod")
    await world.ask("sync dev test", user=APPROVER)
    mine = text_of(await world.ask("requests mine"))
    assert "Sync FP&amp;A DEV → FP&amp;A PROD" in mine
    assert "FP&amp;A TEST" not in mine
    pending = text_of(await world.ask("requests pending"))
    assert "2 requests — waiting for approval" in pending
    assert "2 requests — recent requests" in text_of(await world.ask("requests"))


async def test_cancel_withdraws_a_pending_request_and_the_card_says_so(world: World) -> None:
    await world.ask("sync dev prod")
    await world.settle()
    request = await world.only_request()
    shown = text_of(await world.ask(f"cancel {request.id.lower()}"))
    assert f"Request *{request.id}*" in shown
    assert "is cancelled" in shown
    await world.settle()
    card = text_of(world.card(await world.request(request.id)))
    assert "Cancelled by <@U0REQUESTER>" in card
    assert "Approve" not in card


async def test_cancel_by_someone_else_is_refused_with_the_reason(world: World) -> None:
    await world.ask("sync dev prod")
    request = await world.only_request()
    shown = text_of(await world.ask(f"cancel {request.id}", user=APPROVER))
    assert "Only the requester" in shown
    assert (await world.request(request.id)).state == "pending"


async def test_audit_lists_what_happened_overall_and_per_model(world: World) -> None:
    await world.ask("sync dev prod")
    request = await world.only_request()
    everything = text_of(await world.ask("audit"))
    assert f"*requested* · {request.id} · <@U0REQUESTER>" in everything
    assert "Recent audit events of FP&amp;A PROD (prod)" in text_of(await world.ask("audit prod"))
    assert "No audit events of FP&amp;A TEST (test)." in text_of(await world.ask("audit test"))


async def test_task_shows_a_sync_task_after_it_ran(world: World) -> None:
    await world.ask("sync dev prod")
    request = await world.only_request()
    reply = await world.click("alm_approve", json.dumps({"v": 1, "request": request.id}), user=APPROVER)
    assert reply.status_code == 200
    await world.eventually(lambda: world.has_task(request.id), "the sync to start")
    await world.settle()
    started = await world.state_becomes(request.id, "succeeded")
    assert started.anaplan_task_id is not None
    tasks = text_of(await world.ask("tasks prod"))
    assert started.anaplan_task_id in tasks
    detail = text_of(await world.ask(f"task prod {started.anaplan_task_id}"))
    assert "State: *COMPLETE*" in detail
    assert "Result: ✅ successful" in detail
