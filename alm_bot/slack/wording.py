"""The core's errors in Slack's words: ``/alm …`` commands, mentions for people and user groups.

The core states facts (`alm_bot.errors`: who may approve as ids, the next step as a value); this is
where they become mrkdwn. The core's own sentence is escaped; mentions and commands are added after,
so ``<@U…>`` reaches Slack as a mention and a model called ``FP&A`` cannot break the markup.
"""

from __future__ import annotations

from typing import Final

from alm_bot.errors import Action, AlmBotError, Approvers, NextStep, approvers_in_words
from alm_bot.slack.formatting import escape

__all__ = ["SLACK_WORDING", "SlackWording", "approvers_mentioned", "in_slack_words"]

_STEPS: Final = {
    Action.LIST_MODELS: "Try `/alm models`.",
    Action.LIST_REQUESTS: "Try `/alm requests` to list them.",
    Action.LIST_REVISIONS: "Try `/alm revisions {subject}`.",
    Action.CREATE_REVISION: 'Create a revision on it first: `/alm revision {subject} "name"`.',
    Action.CANCEL_REQUEST: "To withdraw it: `/alm cancel {subject}`.",
    Action.CONFIRM_DATA_LOSS: "Click Approve and confirm, in the form that opens, what will be lost.",
    Action.OVERRIDE_RISK: (
        "As an override approver you may approve it anyway: click *Override and approve* on the card "
        "and give a reason."
    ),
}


def approvers_mentioned(approvers: Approvers) -> str:
    """``<@U1>, <@U2> or members of <!subteam^S1>``: Slack shows each one's current name."""
    return approvers_in_words(approvers, person=lambda u: f"<@{u}>", group=lambda g: f"<!subteam^{g}>")


class SlackWording:
    """Wording for mrkdwn: escaped facts, mentions, ``/alm`` commands in inline code."""

    def fact(self, text: str) -> str:
        return escape(text)

    def approvers(self, approvers: Approvers) -> str:
        return approvers_mentioned(approvers)

    def next_step(self, step: NextStep) -> str:
        return _STEPS[step.action].format(subject=escape(_quoted(step.subject or "")))


SLACK_WORDING: Final = SlackWording()


def in_slack_words(error: AlmBotError) -> str:
    """The error as mrkdwn, ready for a section block."""
    return error.worded(SLACK_WORDING)


def _quoted(reference: str) -> str:
    """A model name with spaces must be quoted to be one argument of a slash command."""
    return f'"{reference}"' if " " in reference else reference
