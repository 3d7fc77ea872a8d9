"""`SlackNotifier`: how the core's notices reach Slack — cards, thread replies, DMs, channel posts.

The watcher hands over one outbox row at a time. Everything is drawn from ``notice.request`` (the
request as stored now), so a repeated or late delivery shows the truth. Every message is posted
through `alm_bot.slack.once.NoticePoster`, which asks Slack first whether an interrupted earlier
attempt already posted it, so a notice appears once; the comparison report's file goes through
`alm_bot.slack.uploads.ReportUploader`, which does the same by the file's id. Any Slack error propagates:
the watcher retries the row with backoff (honouring ``Retry-After`` of a 429). A card notice that
arrives before the card was posted raises `CardNotPostedYet`, so it is retried after the post.

==========================  =========================================================
destination                 what is delivered
==========================  =========================================================
``approvals``               the approval card, posted in the approvals channel (a change
                            window override: a message of its own there)
``card``                    ``chat.update`` of the card; progress and results in its thread
``user:<id>``               a direct message (``conversations.open`` + ``chat.postMessage``);
                            nothing for an id that is no Slack user (a CLI or pipeline requester)
``channel:<id>``            a message in that channel
==========================  =========================================================
"""

from __future__ import annotations

import logging
import re
from typing import Final

from slack_sdk.web.async_client import AsyncWebClient

from alm_bot.approval_policy import ApprovalProgress
from alm_bot.config import Settings
from alm_bot.errors import ConfigError
from alm_bot.notify import APPROVALS, CARD, DeliveryReceipt, Notice
from alm_bot.operations import Operations
from alm_bot.operations.risk_gate import is_blocked
from alm_bot.records import (
    ApprovalEscalated,
    ApprovalReminder,
    CardRefused,
    ComparisonReady,
    NoticePayload,
    NoticesRecovered,
    RiskOverridden,
    SyncPlan,
    TargetFinished,
    TaskProgress,
    WindowOverridden,
)
from alm_bot.slack import approval_view, notices
from alm_bot.slack.card_ref import card_location, card_ref
from alm_bot.slack.cards import approval_card, request_title
from alm_bot.slack.delivery import dm_channel, update
from alm_bot.slack.evidence_replies import notes_reply, verified_reply
from alm_bot.slack.formatting import is_slack_user
from alm_bot.slack.message import Message
from alm_bot.slack.once import NoticePoster
from alm_bot.slack.release_cards import target_finished_reply
from alm_bot.slack.uploads import ReportUploader
from alm_bot.store import ApprovalRequest, TargetRun

__all__ = ["CardNotPostedYet", "SlackNotifier"]

log = logging.getLogger("alm_bot.slack.notifier")

_CARD_REDRAWS: Final = frozenset(
    {"approval_needed", "request_updated", "request_decided", "request_expired", "request_cancelled"}
)
_THREAD_REPLIES: Final = frozenset(
    {
        "task_progress",
        "task_finished",
        "decided_outside_slack",
        "approval_reminder",
        "approval_escalated",
        "sync_verified",
        "release_notes",
        "target_finished",
    }
)


class CardNotPostedYet(RuntimeError):
    """A notice about a card that is not in Slack yet; the watcher retries it later."""


class SlackNotifier:
    """Implements `alm_bot.notify.Notifier` for Slack."""

    def __init__(self, client: AsyncWebClient, settings: Settings, ops: Operations) -> None:
        self._client = client
        self._settings = settings
        self._ops = ops
        self._poster = NoticePoster(client, ops.store)
        self._uploader = ReportUploader(client, ops.store, self._poster)

    async def deliver(self, notice: Notice) -> DeliveryReceipt | None:
        if isinstance(notice.payload, ComparisonReady):
            await self._comparison(notice.id, notice.destination, notice.payload)
            return None
        if isinstance(notice.payload, NoticesRecovered):
            await self._to_approvals_channel(notice, notices.recovered_message(notice.payload))
            return None
        request = notice.request
        if request is None:
            log.warning(
                "notice %s (%s) names no request that exists; nothing to show", notice.id, notice.kind
            )
            return None
        if isinstance(notice.payload, WindowOverridden):
            await self._to_approvals_channel(notice, notices.override_message(request))
            return None
        if isinstance(notice.payload, RiskOverridden):
            await self._to_approvals_channel(notice, notices.risk_override_message(request, notice.payload))
            return None
        if notice.destination == APPROVALS:
            return await self._post_card(notice, request)
        if notice.destination == CARD:
            await self._on_card(notice, request)
            return None
        if not _reachable(notice.destination):
            log.info("notice %s for %s: no Slack user to tell, skipped", notice.id, notice.destination)
            return None
        channel = await self._channel_for(notice.destination)
        if notice.kind == "approval_escalated":
            title = request_title(request)
            progress = await self._ops.approvals.progress(request)
            message = approval_view.escalated_dm(request, progress, title)
        elif notice.kind == "approval_needed":
            message = await self._card(request)
        else:
            message = _personal(notice.kind, request, notice.payload)
        await self._poster.post(notice.id, channel, message)
        return None

    async def _to_approvals_channel(self, notice: Notice, message: Message) -> None:
        channel = self._settings.approval.channel
        if channel is None:
            log.info("no approvals channel configured: %s", message.text)
            return
        await self._poster.post(notice.id, channel, message)

    def _blocked(self, request: ApprovalRequest) -> bool:
        """The radar's ``data-loss`` and ``block_on_risk`` together: the card offers only Reject
        and the override (`risk_gate`)."""
        return is_blocked(request, self._settings)

    async def _progress(self, request: ApprovalRequest) -> ApprovalProgress | None:
        """The approvals counted so far, for requests that have a card (those that need approval)."""
        return await self._ops.approvals.progress(request) if request.plan.protected else None

    async def _post_card(self, notice: Notice, request: ApprovalRequest) -> DeliveryReceipt:
        card = await self._card(request)
        posted = card_location(request)
        if posted is not None:
            # Already posted (the receipt was recorded): redraw rather than post a second card.
            await update(self._client, posted.channel, posted.ts, card)
            return DeliveryReceipt(card_ref(posted.channel, posted.ts))
        channel = self._settings.approval.channel
        if channel is None:
            raise ConfigError(["approval.channel: is missing: approval cards need a channel"])
        ts = await self._poster.post(notice.id, channel, card)
        return DeliveryReceipt(card_ref(channel, ts))

    async def _on_card(self, notice: Notice, request: ApprovalRequest) -> None:
        posted = card_location(request)
        if posted is None:
            raise CardNotPostedYet(f"the card of request {request.id} is not posted yet")
        if notice.kind in _THREAD_REPLIES:
            payload = notice.payload
            if isinstance(payload, TaskProgress):
                reply = notices.progress_reply(payload)
            elif isinstance(payload, ApprovalReminder | ApprovalEscalated):
                reply = await self._policy_reply(payload, request)
            elif notice.kind == "decided_outside_slack":
                reply = notices.break_glass_reply(request)
            elif isinstance(payload, TargetFinished):
                runs = await self._runs(request)
                reply = target_finished_reply(request, runs, payload.position)
            elif notice.kind == "sync_verified":
                reply = verified_reply(request)
            elif notice.kind == "release_notes":
                reply = notes_reply(request, await self._ops.release_notes(request.id))
            else:
                reply = notices.finished_reply(request)
            await self._poster.post(notice.id, posted.channel, reply, thread_ts=posted.ts)
            return
        if notice.kind not in _CARD_REDRAWS:
            log.info("redrawing the card of %s for an unfamiliar notice kind %r", request.id, notice.kind)
        await update(self._client, posted.channel, posted.ts, await self._card(request))

    async def _card(self, request: ApprovalRequest) -> Message:
        """The card: its approvals so far, a release's targets, the radar's block, its change window now."""
        return approval_card(
            request,
            await self._progress(request),
            await self._runs(request),
            blocked=self._blocked(request),
            window=self._ops.scheduling.note(request),
        )

    async def _runs(self, request: ApprovalRequest) -> list[TargetRun]:
        """A release's target runs, as stored now (a plain sync's card needs none)."""
        plan = request.plan
        if isinstance(plan, SyncPlan) and plan.is_release:
            return await self._ops.get_runs(request.id)
        return []

    async def _policy_reply(
        self, payload: ApprovalReminder | ApprovalEscalated, request: ApprovalRequest
    ) -> Message:
        progress = await self._ops.approvals.progress(request)
        if isinstance(payload, ApprovalReminder):
            return approval_view.reminder_reply(request, progress)
        return approval_view.escalated_reply(request, progress)

    async def _channel_for(self, destination: str) -> str:
        kind, _, target = destination.partition(":")
        if kind == "user" and target:
            return await dm_channel(self._client, target)
        if kind == "channel" and target:
            return target
        raise ValueError(f"unknown notice destination {destination!r}")

    async def _comparison(self, notice_id: int, destination: str, payload: ComparisonReady) -> None:
        channel = await self._channel_for(destination)
        message = notices.comparison_message(payload)
        if payload.task_kind != "comparison_report" or not payload.outcome.successful:
            await self._poster.post(notice_id, channel, message)
            return
        report = await self._ops.get_comparison_report(payload.model_id, payload.task_id)
        await self._uploader.upload(
            notice_id,
            channel,
            report,
            filename=_report_filename(payload.plan),
            title=notices.comparison_title(payload.plan),
            comment=message.text,
        )


def _reachable(destination: str) -> bool:
    """A ``user:`` destination only reaches someone with a Slack user id."""
    kind, _, target = destination.partition(":")
    return kind != "user" or is_slack_user(target)


def _personal(kind: str, request: ApprovalRequest, payload: NoticePayload) -> Message:
    if kind == "card_refused":
        return notices.card_refused_dm(
            request, payload.error if isinstance(payload, CardRefused) else "refused"
        )
    if kind == "request_decided":
        return notices.decided_dm(request)
    if kind == "request_expired":
        return notices.expired_dm(request)
    if kind == "request_cancelled":
        return notices.cancelled_dm(request)
    if kind == "task_finished":
        return notices.finished_dm(request)
    return notices.update_dm(request)


def _report_filename(plan: SyncPlan) -> str:
    parts = [
        plan.source.alias or plan.source.name or "source",
        plan.target.model.alias or plan.target.model.name or "target",
        plan.source_revision.name or "revision",
    ]
    slug = "-".join(re.sub(r"[^A-Za-z0-9]+", "-", str(p)).strip("-").lower() or "x" for p in parts)
    return f"comparison-{slug}.txt"
