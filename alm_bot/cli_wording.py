"""The core's errors in the command line's words: ``alm-bot …`` commands and plain ids.

The core states facts (`alm_bot.errors`); the CLI has no Slack to mention people in and no tools to
call, so people are named by their ids and every next step is a command to run (or, where the CLI
has none, the plain step).
"""

from __future__ import annotations

from typing import Final

from alm_bot.errors import Action, AlmBotError, PlainWording

__all__ = ["CLI_WORDING", "in_cli_words"]

CLI_WORDING: Final = PlainWording(
    {
        Action.LIST_MODELS: "Name the model by an alias from the ALM_BOT_CONFIG file or by its model id.",
        Action.LIST_REQUESTS: "Run `alm-bot requests list` to see recent requests.",
        Action.CANCEL_REQUEST: "To withdraw it, run `alm-bot requests cancel {subject}`.",
        Action.CONFIRM_DATA_LOSS: "To approve it anyway, run the command again with --confirm-data-loss.",
        Action.OVERRIDE_RISK: (
            "As an override approver you may approve it anyway: run the command again with "
            "--confirm-data-loss --override-risk (its --reason is the override's reason)."
        ),
    }
)
"""Plain facts, approvers by id, next steps as ``alm-bot`` commands where the CLI has one."""


def in_cli_words(error: AlmBotError) -> str:
    return error.worded(CLI_WORDING)
