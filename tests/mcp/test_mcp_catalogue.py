"""What an assistant sees in tools/list: every operation, described, typed, annotated, structured."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import Tool

from tests.mcp.catalogue import ALL_TOOLS, CHANGING_TOOLS, REQUEST_REGISTRY_TOOLS

pytestmark = pytest.mark.anyio

MODEL_PARAMETERS = {"model", "source_model", "target_model"}


async def list_tools(server: MCPServer) -> dict[str, Tool]:
    async with Client(server) as client:
        return {tool.name: tool for tool in (await client.list_tools()).tools}


@pytest.fixture
async def tools(make_server: Callable[..., MCPServer]) -> dict[str, Tool]:
    return await list_tools(make_server())


async def test_every_seed_operation_and_the_request_tools_are_offered(tools: dict[str, Tool]) -> None:
    assert set(tools) == ALL_TOOLS


async def test_there_is_no_tool_to_approve_or_reject(tools: dict[str, Tool]) -> None:
    assert not [name for name in tools if "approve" in name or "reject" in name or "decide" in name]


async def test_reads_are_read_only_and_idempotent(tools: dict[str, Tool]) -> None:
    for name in ALL_TOOLS - CHANGING_TOOLS:
        hints = tools[name].annotations
        assert hints is not None
        assert (name, hints.read_only_hint, hints.idempotent_hint) == (name, True, True)


async def test_sync_and_status_changes_are_destructive_and_not_read_only(tools: dict[str, Tool]) -> None:
    for name in ("alm_sync_models", "alm_change_model_status"):
        hints = tools[name].annotations
        assert hints is not None
        assert (hints.read_only_hint, hints.destructive_hint, hints.open_world_hint) == (False, True, True)


async def test_creating_a_revision_only_adds_and_is_not_idempotent(tools: dict[str, Tool]) -> None:
    hints = tools["alm_create_revision"].annotations
    assert hints is not None
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (False, False, False)


async def test_only_tools_that_reach_anaplan_are_open_world(tools: dict[str, Tool]) -> None:
    open_world = {
        name for name, tool in tools.items() if tool.annotations and tool.annotations.open_world_hint
    }
    closed = {
        name for name, tool in tools.items() if tool.annotations and tool.annotations.open_world_hint is False
    }
    assert (open_world, closed) == (ALL_TOOLS - REQUEST_REGISTRY_TOOLS, REQUEST_REGISTRY_TOOLS)


async def test_every_tool_has_a_title_and_a_description_written_for_a_model(tools: dict[str, Tool]) -> None:
    for tool in tools.values():
        assert tool.title
        assert tool.description is not None
        assert len(tool.description) > 80, tool.name
        assert "    " not in tool.description, f"{tool.name}: description keeps docstring indentation"


async def test_tools_taking_a_model_say_it_may_be_an_alias_id_or_name(tools: dict[str, Tool]) -> None:
    for tool in tools.values():
        for name in MODEL_PARAMETERS & set(tool.input_schema["properties"]):
            described = tool.input_schema["properties"][name]["description"]
            assert {"alias", "id", "name"} <= set(described.replace(",", " ").split()), (tool.name, name)
            assert "alias" in (tool.description or ""), tool.name


async def test_every_parameter_is_described(tools: dict[str, Tool]) -> None:
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        for name, schema in tool.input_schema["properties"].items():
            assert schema.get("description"), (tool.name, name)


async def test_the_context_parameter_is_hidden_from_the_schema(tools: dict[str, Tool]) -> None:
    assert "ctx" not in tools["alm_sync_models"].input_schema["properties"]


async def test_sync_takes_the_documented_parameters(tools: dict[str, Tool]) -> None:
    schema = tools["alm_sync_models"].input_schema
    assert list(schema["properties"]) == [
        "source_model",
        "target_model",
        "source_revision",
        "wait_for_completion",
        "max_wait_seconds",
    ]
    assert schema["required"] == ["source_model", "target_model"]
    assert schema["properties"]["wait_for_completion"]["default"] is False
    assert schema["properties"]["max_wait_seconds"]["maximum"] <= 300


async def test_status_change_accepts_only_online_or_offline(tools: dict[str, Tool]) -> None:
    status = tools["alm_change_model_status"].input_schema["properties"]["status"]
    assert status["enum"] == ["online", "offline"]


async def test_every_tool_declares_a_valid_structured_output_schema(tools: dict[str, Tool]) -> None:
    for tool in tools.values():
        schema: dict[str, Any] | None = tool.output_schema
        assert schema is not None, tool.name
        assert schema["type"] == "object"
        Draft202012Validator.check_schema(schema)


async def test_change_tools_output_says_status_request_and_approvers(tools: dict[str, Tool]) -> None:
    for name in ("alm_sync_models", "alm_change_model_status"):
        schema = tools[name].output_schema
        assert schema is not None
        properties = schema["properties"]
        assert {"status", "request_id", "approvers", "expires_at", "task_id"} <= set(properties)
        assert properties["status"]["enum"] == [
            "awaiting_approval",
            "scheduled",
            "started",
            "succeeded",
            "failed",
        ]


async def test_read_only_mode_offers_exactly_the_read_only_tools(
    make_server: Callable[..., MCPServer],
) -> None:
    tools = await list_tools(make_server(read_only=True))
    assert set(tools) == ALL_TOOLS - CHANGING_TOOLS
    assert all(tool.annotations and tool.annotations.read_only_hint for tool in tools.values())


async def test_the_release_walkthrough_prompt_and_resources_are_listed(client: Client) -> None:
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    resources = {str(r.uri) for r in (await client.list_resources()).resources}
    templates = {t.uri_template for t in (await client.list_resource_templates()).resource_templates}
    assert [a.name for a in prompts["release_walkthrough"].arguments or []] == ["source", "target"]
    assert resources == {"alm://models", "alm://requests", "alm://schemas"}
    assert templates == {
        "alm://requests/{request_id}",
        "alm://requests/{request_id}/notes",
        "alm://models/{model}/policy",
    }


TOOLS_LIST_BUDGET = 30_000
"""Bytes of the tools/list answer with every tool: what each assistant pays in context (tools/bench.py)."""


async def test_tools_list_with_every_tool_fits_the_budget(client: Client) -> None:
    listed = await client.list_tools()
    size = len(listed.model_dump_json(by_alias=True, exclude_none=True))
    assert len(listed.tools) == len(ALL_TOOLS)
    assert size <= TOOLS_LIST_BUDGET, f"tools/list is {size} bytes"


async def test_the_full_result_schemas_are_a_resource(client: Client) -> None:
    contents = (await client.read_resource("alm://schemas")).contents
    full = json.loads(contents[0].text)  # type: ignore[union-attr]
    assert set(full) == ALL_TOOLS
    described = full["alm_get_request"]["$defs"]["ModelRef"]["properties"]["id"]
    assert "description" in described


async def test_read_only_mode_mentions_no_tool_it_does_not_offer(
    make_server: Callable[..., MCPServer],
) -> None:
    async with Client(make_server(read_only=True)) as client:
        offered = {t.name for t in (await client.list_tools()).tools}
        prompts = (await client.list_prompts()).prompts
        instructions = client.instructions or ""
        texts = [instructions]
        for prompt in prompts:
            arguments = {a.name: "dev" for a in prompt.arguments or []}
            got = await client.get_prompt(prompt.name, arguments)
            texts += [m.content.text for m in got.messages]  # type: ignore[union-attr]
    mentioned = {name for text in texts for name in re.findall(r"\balm_[a-z_]+", text)}
    assert mentioned, "the instructions name the tools to use"
    assert mentioned <= offered, sorted(mentioned - offered)
    assert "release_walkthrough" not in {p.name for p in prompts}


async def test_every_tool_mentioned_in_the_instructions_exists(client: Client) -> None:
    offered = {t.name for t in (await client.list_tools()).tools}
    instructions = client.instructions or ""
    assert set(re.findall(r"\balm_[a-z_]+", instructions)) <= offered


async def test_error_results_carry_no_structured_content(client: Client) -> None:
    """Strict clients reject an error whose structuredContent fails the output schema: send none."""
    for tool in (await client.list_tools()).tools:
        required = tool.input_schema.get("required", [])
        if not required:
            continue
        arguments = dict.fromkeys(required, "does-not-exist")
        result = await client.call_tool(tool.name, arguments)
        assert result.is_error, tool.name
        assert result.structured_content is None, tool.name
