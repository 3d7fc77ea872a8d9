"""Short JSON schemas for ``tools/list``: every assistant pays for the listing in its context.

Pydantic's schemas of the tools' parameters and results were 80 KB for 19 tools (58 KB of it output
schemas, each repeating the definitions it nests). What ``tools/list`` carries instead:

- **input schemas**: as generated, without the ``title`` pydantic derives from each name, and with
  ``anyOf: [X, null]`` written as ``type: [X, "null"]`` (descriptions, bounds, defaults stay: they
  are what an assistant reads to call the tool right);
- **output schemas**: the result's top-level fields with their types, enums and nullability, and
  which are required; nested objects are ``{"type": "object"}`` (arrays of them ``items: object``).
  No titles, descriptions, defaults or formats. Every result still validates against it (clients
  such as the mcp SDK's check ``structuredContent`` against the listed schema); the server itself
  validates results against the full pydantic model. The full, described schemas are the
  ``alm://schemas`` resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

__all__ = ["compact_input_schema", "compact_output_schema"]

_OUTPUT_DROPS: Final = frozenset({"title", "description", "default", "format", "examples", "$defs"})
_NULL: Final = {"type": "null"}


def compact_input_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An input schema without derived titles, with nullable types as type lists."""
    out: dict[str, Any] = {k: v for k, v in schema.items() if k != "title"}
    if isinstance(properties := schema.get("properties"), Mapping):
        out["properties"] = {name: _nullable(_untitled(p)) for name, p in properties.items()}
    return out


def compact_output_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An output schema reduced to its top-level fields' types (see the module docstring)."""
    definitions: Mapping[str, Any] = schema.get("$defs", {})
    out = {k: v for k, v in schema.items() if k not in _OUTPUT_DROPS}
    if isinstance(properties := schema.get("properties"), Mapping):
        out["properties"] = {name: _shallow(p, definitions) for name, p in properties.items()}
    return out


def _untitled(schema: Any) -> Any:
    return {k: v for k, v in schema.items() if k != "title"} if isinstance(schema, Mapping) else schema


def _shallow(schema: Any, definitions: Mapping[str, Any]) -> Any:
    """A field's schema kept to its type: referenced and nested objects become plain objects."""
    if not isinstance(schema, Mapping):
        return schema
    if "$ref" in schema:
        return {"type": "object"}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _OUTPUT_DROPS or key in ("properties", "required", "additionalProperties"):
            continue
        if key == "items":
            out[key] = _shallow(value, definitions)
        elif key in ("anyOf", "oneOf"):
            out[key] = [_shallow(v, definitions) for v in value]
        else:
            out[key] = value
    return _nullable(out)


def _nullable(schema: Any) -> Any:
    """``anyOf: [{type: X, …}, {type: null}]`` → ``{type: [X, "null"], …}`` where X is one type name."""
    if not isinstance(schema, Mapping):
        return schema
    options = schema.get("anyOf")
    if not (isinstance(options, list) and len(options) == 2 and _NULL in options):
        return dict(schema)
    other = options[0] if options[1] == _NULL else options[1]
    if not isinstance(other, Mapping) or not isinstance(other.get("type"), str) or "enum" in other:
        return dict(schema)  # an enum would need null among its values too: keep the anyOf
    rest = {k: v for k, v in schema.items() if k != "anyOf"}
    return {**other, **rest, "type": [other["type"], "null"]}
