"""The README's reference parts cannot drift from the code.

The configuration tables are compared with `Settings` (its environment variables) and the TOML
section models, both ways and with their defaults. The commands, the sandbox's control endpoints,
the variables read outside `Settings`, and the JSON and TOML examples are checked against what
the code really offers. The README is parsed as Markdown written by people: one table per
heading, the name in the first cell's first `code span`, the default in the second cell.
"""

from __future__ import annotations

import ast
import json
import re
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any

import pytest
from pydantic import BaseModel, TypeAdapter
from pydantic.fields import FieldInfo

from alm_bot.cli import build_parser
from alm_bot.config import Settings, load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.sandbox.control import control_routes

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
CODE_SPAN = re.compile(r"`([^`]+)`")


# --- reading the README ---------------------------------------------------------------------------


def readme() -> str:
    return README.read_text(encoding="utf-8")


def headings(text: str) -> list[tuple[int, int, str]]:
    """(line index, level, title) of every heading outside fenced code blocks."""
    found: list[tuple[int, int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines()):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) (.+)", line)):
            found.append((number, len(match[1]), match[2].strip()))
    return found


def section(text: str, title: str) -> str:
    """The lines under the heading ``title`` up to the next heading of the same or a higher level."""
    lines = text.splitlines()
    marks = headings(text)
    for position, (start, level, name) in enumerate(marks):
        if name == title:
            end = next((line for line, lv, _ in marks[position + 1 :] if lv <= level), len(lines))
            return "\n".join(lines[start + 1 : end])
    raise AssertionError(f"README.md has no heading {title!r}")


def subsections(text: str, level: int) -> dict[str, str]:
    """Each heading of ``level`` inside ``text`` → its own lines."""
    lines = text.splitlines()
    marks = headings(text)
    found: dict[str, str] = {}
    for position, (start, lv, name) in enumerate(marks):
        if lv == level:
            end = next((line for line, lv2, _ in marks[position + 1 :] if lv2 <= level), len(lines))
            found[name] = "\n".join(lines[start + 1 : end])
    return found


def first_table(text: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``text``, as stripped cells."""
    rows: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            rows.append(cells)
        elif rows:
            break
    assert len(rows) >= 2, f"no table in:\n{text[:300]}"
    assert set("".join(rows[1])) <= set("-: "), f"no header separator in:\n{text[:300]}"
    return rows[2:]


def name_in(cell: str) -> str:
    match = CODE_SPAN.search(cell)
    assert match, f"the first cell {cell!r} names nothing in `backticks`"
    return match[1]


def documented(table: list[list[str]]) -> dict[str, str]:
    """Name (first cell's code span) → default cell."""
    entries: dict[str, str] = {}
    for row in table:
        name = name_in(row[0])
        assert name not in entries, f"{name} is documented twice"
        entries[name] = row[1]
    return entries


def fenced_blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


# --- what the code has ----------------------------------------------------------------------------


def environment_fields() -> dict[str, FieldInfo]:
    return {f.alias: f for f in Settings.model_fields.values() if f.alias}


def toml_sections() -> dict[str, type[BaseModel]]:
    """``[approval]`` → ApprovalConfig, ``[models.<alias>]`` → ModelConfig, … from `Settings` itself."""
    sections: dict[str, type[BaseModel]] = {}
    for name, field in Settings.model_fields.items():
        if field.alias:
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            sections[f"[{name}]"] = annotation
        elif typing.get_origin(annotation) is dict:
            value = typing.get_args(annotation)[1]
            assert isinstance(value, type), f"{name}: {annotation}"
            assert issubclass(value, BaseModel), f"{name}: {annotation}"
            sections[f"[{name}.<alias>]"] = value
        elif typing.get_origin(annotation) is tuple:  # an array of tables, tuple[Section, ...]
            value = typing.get_args(annotation)[0]
            assert isinstance(value, type), f"{name}: {annotation}"
            assert issubclass(value, BaseModel), f"{name}: {annotation}"
            sections[f"[[{name}]]"] = value
        else:
            raise AssertionError(f"Settings.{name} is neither a variable nor a TOML section")
    return sections


def documented_sections() -> dict[str, dict[str, str]]:
    toml = section(section(readme(), "Configuration"), "TOML file")
    found: dict[str, dict[str, str]] = {}
    for title, body in subsections(toml, 4).items():
        found[name_in(title)] = documented(first_table(body))
    return found


def field_type(field: FieldInfo) -> Any:
    """The field's annotation with its validators, to parse a documented default the way pydantic would."""
    return Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation


def documented_default(cell: str, field: FieldInfo) -> Any:
    """The value a default cell stands for: its first code span as a TOML value, validated like the field."""
    span = CODE_SPAN.search(cell)
    assert span, f"the default {cell!r} gives no `value`"
    raw = tomllib.loads(f"value = {span[1]}")["value"]
    return TypeAdapter(field_type(field)).validate_python(raw)


# --- the tests ------------------------------------------------------------------------------------


def test_the_readme_names_the_two_commands_that_run_and_test_alm_bot() -> None:
    quick_start = section(readme(), "Quick start")
    assert "uv run alm-bot serve --sandbox" in quick_start
    assert "uv run pytest" in quick_start
    assert "ALM_BOT_TEST_POSTGRES_URL" in quick_start, "say how to enable the PostgreSQL tests"


def test_every_environment_variable_of_the_settings_is_documented_and_no_other() -> None:
    table = first_table(section(section(readme(), "Configuration"), "Environment variables"))
    names = set(documented(table))
    real = set(environment_fields())
    assert not real - names, f"undocumented in README.md: {sorted(real - names)}"
    assert not names - real, f"documented but not in Settings: {sorted(names - real)}"


def test_the_documented_environment_defaults_are_the_real_ones() -> None:
    table = documented(first_table(section(section(readme(), "Configuration"), "Environment variables")))
    for name, field in environment_fields().items():
        cell = table[name]
        if field.default_factory is not None:
            assert cell, f"{name}: describe its computed default"
            assert cell != "unset", f"{name}: describe its computed default"
        elif field.default is None:
            assert cell.startswith("unset"), f"{name}: the default is unset, README says {cell!r}"
        else:
            assert name_in(cell) == field.default, f"{name}: the default is {field.default!r}, not {cell!r}"


def test_every_toml_section_is_documented_and_no_other() -> None:
    names = set(documented_sections())
    real = set(toml_sections())
    assert not real - names, f"undocumented TOML sections: {sorted(real - names)}"
    assert not names - real, f"documented TOML sections that do not exist: {sorted(names - real)}"


@pytest.mark.parametrize("name", sorted(toml_sections()))
def test_every_toml_key_is_documented_in_its_section_and_no_other(name: str) -> None:
    keys = set(documented_sections().get(name, {}))
    real = set(toml_sections()[name].model_fields)
    assert not real - keys, f"{name}: undocumented keys {sorted(real - keys)}"
    assert not keys - real, f"{name}: documented keys that do not exist {sorted(keys - real)}"


@pytest.mark.parametrize("name", sorted(toml_sections()))
def test_the_documented_toml_defaults_are_the_real_ones(name: str) -> None:
    table = documented_sections()[name]
    for key, field in toml_sections()[name].model_fields.items():
        cell = table[key]
        if field.is_required():
            assert cell == "required", f"{name} {key}: it is required, README says {cell!r}"
        elif field.default is None:
            assert cell.startswith("unset"), f"{name} {key}: the default is unset, README says {cell!r}"
        else:
            default = field.get_default(call_default_factory=True)
            assert documented_default(cell, field) == default, f"{name} {key}: the default is {default!r}"


def test_the_toml_example_in_the_readme_is_a_valid_configuration(tmp_path: Path) -> None:
    examples = fenced_blocks(section(readme(), "Configuration"), "toml")
    assert examples, "the Configuration section has no ```toml example"
    for number, example in enumerate(examples):
        path = tmp_path / f"example{number}.toml"
        path.write_text(example, encoding="utf-8")
        settings = load_settings(env={}, config_file=path)
        loaded = tomllib.loads(example)
        by_alias = {name.split(".")[0] + "]" for name in toml_sections() if name.endswith(".<alias>]")}
        shown = {f"[[{k}]]" if isinstance(v, list) else f"[{k}]" for k, v in loaded.items()} - by_alias
        assert shown <= set(toml_sections()), "the example has a section the code does not know"
        assert settings.approval.configured


def test_every_variable_read_outside_the_settings_is_documented_and_no_other() -> None:
    other = set(documented(first_table(section(readme(), "Other variables"))))
    read = variables_read_directly(ROOT / "alm_bot") - set(environment_fields())
    assert not read - other, f"read by alm_bot but not under 'Other variables': {sorted(read - other)}"
    test_files = [p for p in (ROOT / "tests").rglob("*.py") if p != Path(__file__).resolve()]
    tests_and_ci = "\n".join(p.read_text(encoding="utf-8") for p in test_files)
    tests_and_ci += (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    unused = sorted(name for name in other - read if f'"{name}"' not in tests_and_ci)
    assert not unused, f"documented under 'Other variables' but read nowhere: {unused}"


def variables_read_directly(package: Path) -> set[str]:
    """Names in ``os.environ.get("X")``, ``os.environ["X"]`` and ``os.getenv("X")`` under ``package``."""
    read: set[str] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            key: ast.expr | None = None
            if isinstance(node, ast.Call) and _reads_environment(node.func) and node.args:
                key = node.args[0]
            elif isinstance(node, ast.Subscript) and _is_environ(node.value):
                key = node.slice
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                read.add(key.value)
    return read


def _is_environ(node: ast.expr) -> bool:
    return isinstance(node, ast.Attribute) and node.attr == "environ"


def _reads_environment(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute) and func.attr == "get":
        return _is_environ(func.value)
    return isinstance(func, ast.Attribute) and func.attr == "getenv"


def test_every_cli_command_is_documented() -> None:
    text = readme()
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command")
    assert commands.choices
    for name, subparser in commands.choices.items():
        assert f"alm-bot {name}" in text, f"`alm-bot {name}` is not in README.md"
        actions = [a for a in subparser._actions if a.dest == "action"]
        for action in actions:
            for verb in action.choices or ():
                pattern = rf"alm-bot {name} [^\n]*\b{verb}\b"
                assert re.search(pattern, text), f"`alm-bot {name} {verb}` is not in README.md"


def test_every_sandbox_control_endpoint_is_documented() -> None:
    table = first_table(section(readme(), "Sandbox"))
    documented_routes = {(method, _path(row[0])) for row in table for method in _methods(row[0])}
    for route in control_routes(Sandbox()):
        for method in sorted(set(getattr(route, "methods", ())) - {"HEAD"}):
            assert (method, route.path) in documented_routes, f"{method} {route.path} is not in README.md"


def _path(cell: str) -> str:
    spans = [span for span in CODE_SPAN.findall(cell) if "/" in span]
    assert len(spans) == 1, f"{cell!r} should name one path"
    return spans[0].split()[-1]


def _methods(cell: str) -> set[str]:
    return set(re.findall(r"\b(GET|POST|PUT|DELETE|PATCH)\b", cell))


def test_the_json_examples_in_the_readme_are_valid_mcp_client_configurations() -> None:
    examples = fenced_blocks(readme(), "json")
    assert len(examples) >= 2, "the MCP setup shows a stdio and an HTTP client configuration"
    kinds = set()
    for example in examples:
        servers = json.loads(example)["mcpServers"]
        server = servers["alm-bot"]
        if "command" in server:
            assert "mcp" in server["args"]
            assert "ALM_BOT_MCP_ACTOR" in server["env"]
            kinds.add("stdio")
        else:
            assert server["url"].endswith("/mcp")
            assert server["headers"]["Authorization"].startswith("Bearer ")
            kinds.add("http")
    assert kinds == {"stdio", "http"}
