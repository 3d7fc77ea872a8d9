"""What `alm-bot serve` prints at start-up, and which Slack mode its settings select.

The banner is what a newcomer needs: where health and MCP are, a client snippet, whether MCP has
auth, the Slack mode, and with ``--sandbox`` the emulator's URLs and the demo's next commands.
"""

from __future__ import annotations

import json
from typing import Final

from alm_bot.config import Settings

__all__ = ["SLACK_OFF_NOTE", "banner", "slack_mode"]

SLACK_OFF_NOTE: Final = "notices wait in the outbox until Slack is configured"


def slack_mode(settings: Settings) -> str:
    """``socket``, ``http`` or ``off``, from which Slack secrets are set."""
    if settings.slack_bot_token is None:
        return "off"
    if settings.slack_app_token is not None:
        return "socket"
    return "http" if settings.slack_signing_secret is not None else "off"


def banner(settings: Settings, base_url: str, *, sandbox: bool) -> str:
    """What a newcomer needs to start using it, printed once at start-up."""
    mcp_url = f"{base_url}/mcp"
    snippet = json.dumps({"mcpServers": {"alm-bot": {"type": "http", "url": mcp_url}}})
    lines = [
        f"alm-bot is running on {base_url}",
        f"  health:        {base_url}/healthz",
        f"  MCP (HTTP):    {mcp_url}",
        f"  MCP client:    {snippet}",
    ]
    if settings.mcp_oauth_issuer is not None:
        lines.append(f"  MCP auth:      OAuth, access tokens from {settings.mcp_oauth_issuer}")
    elif not settings.mcp_tokens:
        lines.append(
            "  MCP auth:      none (no ALM_BOT_MCP_TOKENS) — allowed because the bind is loopback only"
        )
    mode = slack_mode(settings)
    if mode == "off" and sandbox:
        lines.append("  Slack:         off — notices are printed here instead (sandbox demo)")
    elif mode == "off":
        lines.append(
            f"  Slack:         off — {SLACK_OFF_NOTE} (set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET "
            "for HTTP mode or SLACK_APP_TOKEN for Socket Mode); everything else works without it"
        )
    elif mode == "http":
        lines.append(f"  Slack:         HTTP mode — set the app's request URLs to {base_url}/slack/events")
    else:
        lines.append("  Slack:         Socket Mode (no public URL needed); connecting in the background")
    if sandbox:
        lines += _sandbox_lines(base_url)
    return "\n".join(lines)


def _sandbox_lines(base_url: str) -> list[str]:
    """The emulator, and the demo's next steps: ask for a prod sync, approve it as a demo approver."""
    cli = f"alm-bot requests {{}} --sandbox-url {base_url}/sandbox"
    return [
        f"  sandbox:       Anaplan emulator — ANAPLAN_API_URL={base_url}/sandbox/2/0 "
        f"ANAPLAN_AUTH_URL={base_url}/sandbox",
        "                 login admin@sandbox.example / sandbox; models dev, test, prod (prod protected)",
        "  try it:        (in this directory, another terminal)",
        "    ask:         " + cli.format("sync dev prod --as U0REQUESTER"),
        "    approve:     " + cli.format('approve ID --as U0APPROVER1 --reason "demo"'),
        "    follow:      " + cli.format("show ID"),
    ]
