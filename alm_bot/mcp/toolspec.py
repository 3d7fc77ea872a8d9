"""A tool as the MCP layer declares it, and the five kinds of tool alm-bot has.

The annotations are set deliberately, per kind, so that hosts can decide what to confirm with the
user: reads are read-only and idempotent; creating a revision or a comparison only adds; a sync or
an online/offline change is destructive; cancelling a request is destructive but repeatable.
``open_world_hint`` says whether the tool reaches Anaplan (true) or only alm-bot's own records.
In read-only mode the server keeps exactly the tools whose ``read_only_hint`` is true.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from mcp.types import ToolAnnotations

__all__ = [
    "ADDS_IN_ANAPLAN",
    "CHANGES_ANAPLAN",
    "CHANGES_REQUEST",
    "READS_ANAPLAN",
    "READS_REQUESTS",
    "ToolSpec",
]

READS_ANAPLAN: Final = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=True
)
READS_REQUESTS: Final = ToolAnnotations(
    read_only_hint=True, destructive_hint=False, idempotent_hint=True, open_world_hint=False
)
ADDS_IN_ANAPLAN: Final = ToolAnnotations(
    read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=True
)
CHANGES_ANAPLAN: Final = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=False, open_world_hint=True
)
CHANGES_REQUEST: Final = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)


@dataclass(frozen=True)
class ToolSpec:
    """One tool: its function (name and docstring become the tool's name and description)."""

    fn: Callable[..., Awaitable[Any]]
    title: str
    annotations: ToolAnnotations

    @property
    def name(self) -> str:
        return self.fn.__name__

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.fn.__doc__ or "")

    @property
    def changes_anything(self) -> bool:
        return self.annotations.read_only_hint is not True
