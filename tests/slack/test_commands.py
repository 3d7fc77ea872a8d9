"""Every /alm subcommand, typed as Slack sends it (signed HTTP), answered privately by the real bot.

Reads and changes go to the sandbox through the real core and a real SQLite file; answers are
read where Slack would show them: the acknowledgement body or the command's response_url.
"""

from __future__ import annotations

import json

import pytest
from slack_stack import APPROVALS, APPROVER, REQUESTER, SlackStack, text_of

from alm_bot.sandbox import seed

pytestmark = pytest.mark.anyio


def ack_body(reply_text: str) -> dict[str, object]:
    body = json.loads(reply_text)
    assert body["response_type"] == "ephemeral"
    return body


@pytest.mark.parametrize("text", ["help", "", "  "])
async def test_help_lists_one_usage_line_per_subcommand_in_the_acknowledgement(
    stack: SlackStack, text: str
) -> None:
    reply, name = await stack.command(text)
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
    assert stack.fake.responses(name) == []


async def test_unknown_input_shows_help_and_names_what_was_not_understood(stack: SlackStack) -> None:
    reply, _ = await stack.command("deploy prod")
    shown = text_of(ack_body(reply.text))
    assert "I don't know `/alm deploy`" in shown
    assert "/alm models [filter]" in shown


async def test_a_usage_mistake_is_answered_at_once_with_the_right_usage(stack: SlackStack) -> None:
    reply, _ = await stack.command("syncable dev")
    shown = text_of(ack_body(reply.text))
    assert "needs &lt;target&gt;" in shown
    assert "Usage: /alm syncable" in shown


async def test_an_unbalanced_quote_is_explained(stack: SlackStack) -> None:
    reply, _ = await stack.command('revision dev "Q4 release')
    assert "unbalanced quote" in text_of(ack_body(reply.text))


async def test_models_lists_every_model_with_alias_and_protection(stack: SlackStack) -> None:
    answer = await stack.ask("models")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "*FP&amp;A DEV* `dev`" in shown
    assert "*FP&amp;A PROD* `prod` · 🔒 protected" in shown
    assert seed.PROD_MODEL_ID in shown


async def test_models_with_a_filter_lists_only_matching_models(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("models workforce"))
    assert "Workforce Planning" in shown
    assert "FP&amp;A" not in shown.replace("FP&amp;A ·", "")  # workspace names aside


async def test_revisions_lists_a_models_revisions_newest_first(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("revisions dev"))
    names = [seed.R4_NAME, seed.R3_NAME, seed.R2_NAME, seed.R1_NAME]
    positions = [shown.index(f"*{n}*") for n in names]
    assert positions == sorted(positions)


async def test_models_can_be_named_by_exact_name_in_quotes(stack: SlackStack) -> None:
    shown = text_of(await stack.ask('latest "FP&A PROD"'))
    assert f"*{seed.R2_NAME}*" in shown


async def test_models_can_be_named_by_id(stack: SlackStack) -> None:
    assert f"*{seed.R2_NAME}*" in text_of(await stack.ask(f"latest {seed.PROD_MODEL_ID}"))


async def test_a_mistyped_model_gets_a_suggestion_and_what_to_do_next(stack: SlackStack) -> None:
    answer = await stack.ask("latest prd")
    assert answer["response_type"] == "ephemeral"
    shown = text_of(answer)
    assert "prd is not an alias, model id or model name — did you mean prod?" in shown
    assert "Try `/alm models`" in shown


async def test_syncable_lists_the_revisions_the_target_can_take(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("syncable dev prod"))
    assert f"*{seed.R4_NAME}*" in shown
    assert f"*{seed.R3_NAME}*" in shown
    assert f"*{seed.R2_NAME}*" not in shown


async def test_applied_lists_the_models_a_revision_went_into(stack: SlackStack) -> None:
    shown = text_of(await stack.ask(f'applied dev "{seed.R1_NAME}"'))
    assert "Revision Initial build is in 6 models" in shown
    assert f"*FP&amp;A TEST* `{seed.TEST_MODEL_ID}`" in shown
    assert f"`{seed.DELETED_MODEL_ID}`" not in shown, "Anaplan leaves a deleted model's id out"
    assert "*a deleted model* · applied" in shown
    assert "(model deleted)" in shown


async def test_tasks_says_when_there_are_none(stack: SlackStack) -> None:
    assert "No sync tasks into FP&amp;A PROD (prod)." in text_of(await stack.ask("tasks prod"))


async def test_revision_creates_a_revision_the_next_latest_shows(stack: SlackStack) -> None:
    reply, name = await stack.command('revision dev "Q4 release" "New cost centres"')
    assert "Working on it" in ack_body(reply.text)["text"]
    shown = text_of(await stack.answer(name))
    assert "Created revision *Q4 release*" in shown
    assert "*Q4 release*" in text_of(await stack.ask("latest dev"))


async def test_sync_into_a_protected_model_waits_for_approval_and_posts_a_card(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("sync dev prod"))
    request = await stack.only_request()
    assert request.state == "pending"
    assert f"request *{request.id}* is waiting in <#{APPROVALS}>" in shown
    assert "<@U0APPROVER1> or <@U0APPROVER2>" in shown
    assert f"/alm cancel {request.id}" in shown
    await stack.settle()
    (post,) = stack.fake.of("chat.postMessage")
    assert post.params["channel"] == APPROVALS
    assert "Approve" in text_of(post.params)


async def test_sync_of_a_named_revision_plans_that_revision(stack: SlackStack) -> None:
    await stack.ask(f'sync dev prod "{seed.R3_NAME}"')
    assert (await stack.only_request()).plan.source_revision.id == seed.R3_ID


async def test_sync_without_arguments_opens_a_form_with_model_pickers(stack: SlackStack) -> None:
    reply, name = await stack.command("sync")
    assert reply.status_code == 200
    (opened,) = await stack.fake.wait_for("views.open")
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
    submitted = await stack.submit(
        "alm_sync_form", values, user=REQUESTER, private_metadata=view["private_metadata"]
    )
    assert submitted.status_code == 200
    assert submitted.text == ""  # the form closes
    shown = text_of(await stack.answer(name))
    request = await stack.only_request()
    assert f"request *{request.id}* is waiting" in shown
    assert request.plan.source_revision.id == seed.R4_ID


async def test_compare_sends_the_summary_by_direct_message_when_anaplan_has_it(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("compare dev prod"))
    assert "Comparing revision *Capex module* of FP&amp;A DEV `dev` with FP&amp;A PROD `prod`" in shown
    await stack.settle()
    (opened,) = stack.fake.of("conversations.open")
    assert opened.params["users"] == REQUESTER
    (dm,) = stack.fake.of("chat.postMessage")
    assert dm.params["channel"] == "D0REQUESTER"
    assert "• Line items: 5 created, 2 modified" in text_of(dm.params)


async def test_compare_full_uploads_the_report_as_a_file(stack: SlackStack) -> None:
    await stack.ask("compare dev prod --full")
    await stack.settle()
    (completed,) = stack.fake.of("files.completeUploadExternal")
    assert completed.params["channel_id"] == "D0REQUESTER"
    (upload,) = stack.fake.of("upload")
    assert b"=== LINE ITEMS ADDED ===" in upload.body
    (stored,) = stack.fake.workspace.files.values()
    assert stored["name"] == "comparison-dev-prod-capex-module.txt"


async def test_offline_of_an_unprotected_model_happens_at_once(stack: SlackStack) -> None:
    shown = text_of(await stack.ask("offline dev"))
    assert "FP&amp;A DEV is now offline." in shown
    assert (await stack.only_request()).state == "succeeded"


async def test_online_of_a_protected_model_asks_for_approval_with_a_status_card(stack: SlackStack) -> None:
    await stack.ask("online prod")
    request = await stack.only_request()
    assert request.state == "pending"
    await stack.settle()
    card = text_of(stack.card(await stack.request(request.id)))
    assert "Take FP&A PROD online" in card
    assert "PRODUCTION → *online*" in card


async def test_requests_lists_recent_mine_and_pending(stack: SlackStack) -> None:
    await stack.ask("sync dev prod")
    await stack.ask("sync dev test", user=APPROVER)
    mine = text_of(await stack.ask("requests mine"))
    assert "Sync FP&amp;A DEV → FP&amp;A PROD" in mine
    assert "FP&amp;A TEST" not in mine
    pending = text_of(await stack.ask("requests pending"))
    assert "2 requests — waiting for approval" in pending
    assert "2 requests — recent requests" in text_of(await stack.ask("requests"))


async def test_cancel_withdraws_a_pending_request_and_the_card_says_so(stack: SlackStack) -> None:
    await stack.ask("sync dev prod")
    await stack.settle()
    request = await stack.only_request()
    shown = text_of(await stack.ask(f"cancel {request.id.lower()}"))
    assert f"Request *{request.id}*" in shown
    assert "is cancelled" in shown
    await stack.settle()
    card = text_of(stack.card(await stack.request(request.id)))
    assert "Cancelled by <@U0REQUESTER>" in card
    assert "Approve" not in card


async def test_cancel_by_someone_else_is_refused_with_the_reason(stack: SlackStack) -> None:
    await stack.ask("sync dev prod")
    request = await stack.only_request()
    shown = text_of(await stack.ask(f"cancel {request.id}", user=APPROVER))
    assert "Only the requester" in shown
    assert (await stack.request(request.id)).state == "pending"


async def test_audit_lists_what_happened_overall_and_per_model(stack: SlackStack) -> None:
    await stack.ask("sync dev prod")
    request = await stack.only_request()
    everything = text_of(await stack.ask("audit"))
    assert f"*requested* · {request.id} · <@U0REQUESTER>" in everything
    assert "Recent audit events of FP&amp;A PROD (prod)" in text_of(await stack.ask("audit prod"))
    assert "No audit events of FP&amp;A TEST (test)." in text_of(await stack.ask("audit test"))


async def test_task_shows_a_sync_task_after_it_ran(stack: SlackStack) -> None:
    await stack.ask("sync dev prod")
    request = await stack.only_request()
    reply = await stack.click("alm_approve", json.dumps({"v": 1, "request": request.id}), user=APPROVER)
    assert reply.status_code == 200
    await stack.eventually(lambda: stack.has_task(request.id), "the sync to start")
    await stack.settle()
    started = await stack.state_becomes(request.id, "succeeded")
    assert started.anaplan_task_id is not None
    tasks = text_of(await stack.ask("tasks prod"))
    assert started.anaplan_task_id in tasks
    detail = text_of(await stack.ask(f"task prod {started.anaplan_task_id}"))
    assert "State: *COMPLETE*" in detail
    assert "Result: ✅ successful" in detail
