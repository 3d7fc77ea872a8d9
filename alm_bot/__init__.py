"""alm-bot: chat-ops and MCP tools for Anaplan ALM."""
