"""A Slack message as the renderers build it: fallback text plus Block Kit blocks.

Renderers return a `Message`; handlers decide where it goes (ack body, response_url, post, update).
`text` is what notifications and screen readers show, so it is always a full sentence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from alm_bot.slack.formatting import SECTION_TEXT_LIMIT, clip, escape

__all__ = ["LIST_LIMIT", "Message", "clipped", "context", "section"]

LIST_LIMIT: Final = 20  # items per list: readable on a phone, far below Slack's 50 blocks

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    """Fallback text and blocks; ``kwargs()`` fits ``chat.postMessage``, ``respond`` and ``ack``.

    ``text`` is plain (it is escaped on the way out); the blocks carry the mrkdwn.
    """

    text: str
    blocks: tuple[Block, ...] = ()

    def kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"text": escape(clip(self.text, 3000))}
        if self.blocks:  # Slack refuses an empty block list
            kwargs["blocks"] = list(self.blocks)
        return kwargs

    def ephemeral(self) -> dict[str, Any]:
        return {**self.kwargs(), "response_type": "ephemeral"}

    def block_dicts(self) -> list[dict[str, Any]]:
        return [block.to_dict() for block in self.blocks]


def section(text: str) -> SectionBlock:
    """A mrkdwn section, cut to Slack's text limit."""
    return SectionBlock(text=MarkdownTextObject(text=clip(text, SECTION_TEXT_LIMIT)))


def context(*texts: str) -> ContextBlock:
    """A small grey line (or several side by side)."""
    return ContextBlock(elements=[MarkdownTextObject(text=clip(t, 2000)) for t in texts if t])


def clipped(items: Sequence[T], limit: int = LIST_LIMIT) -> tuple[Sequence[T], int]:
    """The first ``limit`` items, and how many were left out."""
    return items[:limit], max(0, len(items) - limit)
