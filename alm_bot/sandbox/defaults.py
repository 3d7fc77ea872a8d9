"""The ready configuration of ``--sandbox``: what alm-bot is configured with when it runs on the emulator.

Kept apart from `alm_bot.services` so that ``alm-bot mcp --sandbox`` can build its settings
without importing the store and the Anaplan client first (start-up time).
"""

from __future__ import annotations

from typing import Any

from alm_bot.sandbox import seed

__all__ = ["sandbox_defaults"]


def sandbox_defaults() -> dict[str, Any]:
    """The ready configuration of `--sandbox`: aliases dev/test/prod, protected prod, demo approvers.

    A file at ALM_BOT_CONFIG is layered on top (e.g. real Slack user ids as approvers).
    """
    return {
        "approval": {
            "channel": "C0APPROVALS",
            "approvers": ["U0APPROVER1", "U0APPROVER2"],
            "approver_groups": [],
            "allow_self_approval": False,
            "expires_after": "24h",
        },
        "models": {
            "dev": {"id": seed.DEV_MODEL_ID},
            "test": {"id": seed.TEST_MODEL_ID},
            "prod": {"id": seed.PROD_MODEL_ID, "protected": True},
        },
    }
