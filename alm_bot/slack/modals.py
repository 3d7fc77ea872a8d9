"""The modals: the ``/alm sync`` form (model pickers), the rejection reason, and the confirmation of
an approval that the data-loss radar says destroys data.

Each view carries what its submission needs in ``private_metadata`` — versioned JSON, like the
buttons — so a submission after a restart still knows what it is about. Reading a submission is
here too, next to the blocks it reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from slack_sdk.models.blocks import (
    Block,
    InputBlock,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from alm_bot.directory import ModelInfo
from alm_bot.slack.buttons import button_value, request_id_of
from alm_bot.slack.cards import request_title
from alm_bot.slack.formatting import clip, escape
from alm_bot.slack.message import context, section
from alm_bot.store import ApprovalRequest

__all__ = [
    "CONFIRM_MODAL",
    "REJECT_MODAL",
    "SYNC_MODAL",
    "SyncForm",
    "confirm_modal",
    "confirmed_request",
    "reason_input",
    "reject_modal",
    "request_modal",
    "submitted_reason",
    "sync_form_of",
    "sync_modal",
]

SYNC_MODAL: Final = "alm_sync_form"
REJECT_MODAL: Final = "alm_reject_reason"
CONFIRM_MODAL: Final = "alm_confirm_data_loss"
OPTIONS_LIMIT: Final = 100  # Slack's maximum for a static select
REASON_BLOCK: Final = "reason"
_VALUE: Final = "value"
_MODEL: Final = "model"


@dataclass(frozen=True)
class SyncForm:
    """A submitted sync form: model ids, an optional revision, and where to answer."""

    source: str
    target: str
    revision: str | None
    response_url: str | None


def sync_modal(models: Sequence[ModelInfo], response_url: str | None) -> View:
    """The form ``/alm sync`` opens without arguments: pick source and target, optionally a revision."""
    options = [_option(m) for m in models[:OPTIONS_LIMIT]]
    blocks: list[Any] = [
        _picker("source", "Source model (sync from)", options),
        _picker("target", "Target model (sync into)", options),
        InputBlock(
            block_id="revision",
            label="Revision",
            optional=True,
            hint="Name or id. Leave empty for the newest revision the target can take.",
            element=PlainTextInputElement(action_id=_VALUE, placeholder="newest syncable revision"),
        ),
    ]
    if len(models) > OPTIONS_LIMIT:
        blocks.append(
            context(
                f"Only the first {OPTIONS_LIMIT} of {len(models)} models are listed; "
                "for others type /alm sync <source> <target>."
            )
        )
    metadata = {"v": 1, "response_url": response_url}
    return View(
        type="modal",
        callback_id=SYNC_MODAL,
        title=PlainTextObject(text="Sync models"),
        submit=PlainTextObject(text="Request sync"),
        close=PlainTextObject(text="Cancel"),
        private_metadata=json.dumps(metadata),
        blocks=blocks,
    )


def sync_form_of(view: Mapping[str, Any]) -> SyncForm:
    """Read a submitted sync form (Slack guarantees both required pickers are set)."""
    values = view.get("state", {}).get("values", {})
    metadata = _metadata(view)
    revision = (values.get("revision", {}).get(_VALUE, {}).get("value") or "").strip() or None
    return SyncForm(
        source=_selected(values, "source"),
        target=_selected(values, "target"),
        revision=revision,
        response_url=metadata.get("response_url") if isinstance(metadata.get("response_url"), str) else None,
    )


def reject_modal(request: ApprovalRequest) -> View:
    """Ask for the reason of a rejection; the requester will read it."""
    question = (
        f"Reject *{request.id}* ({escape(request_title(request))})? The requester will see your reason."
    )
    return request_modal(
        request,
        callback_id=REJECT_MODAL,
        title="Reject request",
        submit="Reject",
        blocks=[section(question), reason_input("Reason", "What must change before this can be approved?")],
    )


def request_modal(
    request: ApprovalRequest, *, callback_id: str, title: str, submit: str, blocks: Sequence[Block]
) -> View:
    """A form about one request (its id travels in the metadata); Cancel closes it, changing nothing."""
    return View(
        type="modal",
        callback_id=callback_id,
        title=PlainTextObject(text=title),
        submit=PlainTextObject(text=submit),
        close=PlainTextObject(text="Cancel"),
        private_metadata=button_value(request.id),
        blocks=list(blocks),
    )


def reason_input(label: str, placeholder: str) -> InputBlock:
    """The form's reason field (read back by `submitted_reason`; errors are shown on `REASON_BLOCK`)."""
    return InputBlock(
        block_id=REASON_BLOCK,
        label=label,
        element=PlainTextInputElement(
            action_id=_VALUE, multiline=True, max_length=1000, placeholder=placeholder
        ),
    )


def confirm_modal(request: ApprovalRequest, losses: Sequence[str], *, override: bool = False) -> View:
    """Approving a sync the data-loss radar says destroys data: name what is lost, ask to confirm.

    Only the submission approves; closing the form changes nothing. ``override``: ``block_on_risk``
    refuses it, and an override approver approves it anyway — the form asks for the reason too."""
    lines = "\n".join(f"• {escape(clip(loss, 300))}" for loss in losses[:10])
    if len(losses) > 10:
        lines += f"\n…and {len(losses) - 10} more (see the card)"
    intro = (
        f"Approving *{request.id}* ({escape(request_title(request))}) destroys data in the target. "
        "The data-loss radar found:"
    )
    return request_modal(
        request,
        callback_id=CONFIRM_MODAL,
        title="Data will be lost",
        submit="Approve and lose it",
        blocks=[
            section(intro),
            section(lines or "• (no finding named)"),
            context("Reverting the revision tag afterwards does not bring the data back."),
            *([_override_reason()] if override else []),
        ],
    )


def _override_reason() -> InputBlock:
    """The reason an override approver gives for approving past ``block_on_risk`` (audited, posted)."""
    return reason_input(
        'Reason for overriding block_on_risk = "data-loss"', "Posted in the approvals channel as an override."
    )


def confirmed_request(view: Mapping[str, Any]) -> tuple[str, str | None]:
    """(request id, override reason or None) of a submitted confirmation; `OutdatedButton` if unreadable."""
    request_id, reason = submitted_reason(view)
    return request_id, reason or None


def submitted_reason(view: Mapping[str, Any]) -> tuple[str, str]:
    """(request id, reason) of a submitted request form; `OutdatedButton` if the metadata is unreadable."""
    request_id = request_id_of(view.get("private_metadata"))
    values = view.get("state", {}).get("values", {})
    reason = values.get(REASON_BLOCK, {}).get(_VALUE, {}).get("value") or ""
    return request_id, reason.strip()


def _option(model: ModelInfo) -> Option:
    lock = " 🔒" if model.protected else ""
    return Option(text=PlainTextObject(text=clip(model.label + lock, 75)), value=model.id)


def _picker(block_id: str, label: str, options: list[Option]) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=label,
        element=StaticSelectElement(action_id=_MODEL, placeholder="Choose a model", options=options),
    )


def _selected(values: Mapping[str, Any], block_id: str) -> str:
    selected = values.get(block_id, {}).get(_MODEL, {}).get("selected_option") or {}
    return str(selected.get("value") or "")


def _metadata(view: Mapping[str, Any]) -> dict[str, Any]:
    try:
        data = json.loads(view.get("private_metadata") or "{}")
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) and data.get("v") == 1 else {}
