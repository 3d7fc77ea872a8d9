"""Where the core's errors become MCP tool errors.

Every tool body runs inside `tool_errors()`. An `AlmBotError` becomes a `ToolError` carrying the
error's facts in tool terms (`alm_bot.mcp.wording`: the next step names a tool), so the client receives an
``isError`` result with that text. The SDK would reduce any other exception to a bare "Error
executing tool"; none is caught here, because an unexpected exception is a bug to log, not a
message for the user — and no traceback ever reaches the client either way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Final

from mcp.server.mcpserver.exceptions import ToolError

from alm_bot.errors import AlmBotError, InvalidArgument
from alm_bot.mcp.wording import in_mcp_words

__all__ = ["tool_errors"]

# The core's parameter names that every tool spells differently.
_COMMON_ARGUMENTS: Final = {"task": "task_id"}


@contextmanager
def tool_errors(arguments: Mapping[str, str] | None = None) -> Iterator[None]:
    """Translate core errors raised inside into `ToolError`.

    ``arguments`` maps the core's parameter names to this tool's (``target`` → ``target_model``),
    so that an `InvalidArgument` names the argument the assistant actually passed.
    """
    try:
        yield
    except AlmBotError as exc:
        raise ToolError(message_for(exc, _COMMON_ARGUMENTS | dict(arguments or {}))) from exc


def message_for(exc: AlmBotError, arguments: Mapping[str, str]) -> str:
    """The text an assistant sees for a core error."""
    text = in_mcp_words(exc)
    if isinstance(exc, InvalidArgument):
        name = arguments.get(exc.argument, exc.argument)
        if not text.startswith(f"{name} "):
            text = f"Invalid argument {name}: {text}"
    return text
