"""Settings for a sandboxed alm-bot, and what to look at in the sandbox afterwards."""

from __future__ import annotations

from pathlib import Path

from alm_bot.config import Settings, load_settings
from alm_bot.sandbox import Sandbox
from alm_bot.services import sandbox_defaults

ADA = "U0ADA:Ada Lovelace"
"""The identity a stdio/in-memory assistant acts as in these tests (ALM_BOT_MCP_ACTOR)."""


QUICK_WATCHER = {"poll_min_seconds": 0.05, "poll_max_seconds": 0.2, "anaplan_requests_per_second": 50}
"""The watcher beside the server follows the sandbox's short tasks quickly."""


def sandbox_settings(tmp_path: Path, **env: str) -> Settings:
    variables = {"ALM_BOT_DATABASE_URL": f"sqlite:///{tmp_path / 'alm-bot.db'}", "ALM_BOT_MCP_ACTOR": ADA}
    return load_settings(env=variables | env, defaults=sandbox_defaults() | {"watcher": QUICK_WATCHER})


def sync_posts(sandbox: Sandbox) -> list[str]:
    """Paths of the sync-starting POSTs Anaplan received."""
    return [e.path for e in sandbox.request_log if e.method == "POST" and e.path.endswith("/syncTasks")]
