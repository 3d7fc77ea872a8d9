"""Thread replies about evidence: the verification after a sync, and the release notes.

The release notes come from the core as neutral Markdown (``alm_bot.evidence.notes``); here they
become Slack mrkdwn: headings in bold, ``**bold**`` as ``*bold*``, tables in a code block, and
everything escaped. Long notes are split over several sections (Slack's 3,000-character limit).
"""

from __future__ import annotations

import re
from typing import Final

from alm_bot.records import VerificationCheck
from alm_bot.slack.formatting import SECTION_TEXT_LIMIT, escape
from alm_bot.slack.message import Message, context, section
from alm_bot.store import ApprovalRequest

__all__ = ["notes_reply", "verified_reply"]

_HEADING: Final = re.compile(r"^#{1,6}\s+(.*)$")
_BOLD: Final = re.compile(r"\*\*(.+?)\*\*")
_CHECK_NAMES: Final = {
    "revision": "latest revision",
    "applied": "listed in appliedToModels",
    "online": "online",
}
_MAX_SECTIONS: Final = 20


def verified_reply(request: ApprovalRequest) -> Message:
    """``✅ Verified: FP&A PROD is at *Capex module*`` or what differs, in the card's thread."""
    verification = request.result.verification if request.result else None
    if verification is None:
        return Message(f"Request {request.id}: not verified.", (section("⚠️ Not verified."),))
    target, revision = escape(verification.model.name), escape(verification.revision.name)
    if verification.verified:
        text = f"✅ Verified: {target} is at *{revision}*"
        notes = [_line(c) for c in verification.checks if c.ok is None]
        blocks = (section(text), *([context("\n".join(notes))] if notes else []))
        return Message(f"Verified: {verification.model.name} is at {verification.revision.name}", blocks)
    lines = [_line(c) for c in verification.checks if c.ok is not True]
    text = f"⚠️ *Not verified:* Anaplan reported the sync done, but {target} is not as planned:\n"
    plain = f"Not verified: {verification.model.name} is not at {verification.revision.name} as planned"
    return Message(plain, (section(text + "\n".join(lines)),))


def _line(check: VerificationCheck) -> str:
    name = _CHECK_NAMES[check.check]
    if check.ok is None:
        return f"• {name}: could not tell ({escape(check.found)})"
    return f"• {name}: expected {escape(check.expected)}, found {escape(check.found)}"


def notes_reply(request: ApprovalRequest, markdown: str) -> Message:
    """The release notes (Markdown from the core) as mrkdwn sections."""
    chunks = _chunks(_mrkdwn(markdown))
    blocks = tuple(section(chunk) for chunk in chunks[:_MAX_SECTIONS])
    return Message(f"Release notes for request {request.id}", blocks)


def _mrkdwn(markdown: str) -> list[str]:
    """Paragraphs of mrkdwn; a Markdown table becomes one code block."""
    out: list[str] = []
    table: list[str] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            if not line.startswith("| ---"):
                table.append(escape(line))
            continue
        if table:
            out.append("```\n" + "\n".join(table) + "\n```")
            table = []
        heading = _HEADING.match(line)
        text = f"*{escape(heading.group(1))}*" if heading else _BOLD.sub(r"*\1*", escape(line))
        out.append(text.replace("- ", "• ", 1) if line.startswith("- ") else text)
    return out


def _chunks(lines: list[str]) -> list[str]:
    chunks, current = [], ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_TEXT_LIMIT:
            chunks.append(current.rstrip())
            current = ""
        current += line + "\n"
    return [*chunks, current.rstrip()] if current.strip() else chunks
