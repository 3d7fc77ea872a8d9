"""The core's errors in the command line's words: ``alm-bot …`` commands and plain ids.

The core states facts (`alm_bot.errors`); the CLI has no Slack to mention people in and no tools to
call, so people are named by their ids and every next step is a command to run (or, where the CLI
has none, the plain step).
"""

from __future__ import annotations

from typing import Final

from alm_bot.errors import PLAIN, Action, AlmBotError, Approvers, NextStep

__all__ = ["CLI_WORDING", "CliWording", "in_cli_words"]

_STEPS: Final = {
    Action.LIST_MODELS: "Name the model by an alias from the ALM_BOT_CONFIG file or by its 32-character id.",
    Action.LIST_REQUESTS: "Run `alm-bot requests list` to see recent requests.",
    Action.CANCEL_REQUEST: "To withdraw it, run `alm-bot requests cancel {subject}`.",
}


class CliWording:
    """Plain facts, approvers by id, next steps as ``alm-bot`` commands."""

    def fact(self, text: str) -> str:
        return text

    def approvers(self, approvers: Approvers) -> str:
        return PLAIN.approvers(approvers)

    def next_step(self, step: NextStep) -> str:
        template = _STEPS.get(step.action)
        return PLAIN.next_step(step) if template is None else template.format(subject=step.subject or "")


CLI_WORDING: Final = CliWording()


def in_cli_words(error: AlmBotError) -> str:
    return error.worded(CLI_WORDING)
