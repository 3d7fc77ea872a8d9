"""Process logging: readable lines by default, JSON with ALM_BOT_LOG_FORMAT=json, secrets never written.

Every Slack or MCP interaction runs with a request id (`request_id_var`), which each log line
carries, so one person's click can be followed through the core, Anaplan and the watcher. A filter
masks the configured secrets (tokens, passwords, signing secret) wherever they would appear in a
message, a traceback or a stack — a last line of defence; the code does not log secrets in the
first place.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Literal

__all__ = ["RedactSecrets", "configure_logging", "new_request_id", "request_id_var"]

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("alm_bot_request_id", default="-")

_MASK = "***"
_TRACEBACKS = logging.Formatter()


def new_request_id(prefix: str = "") -> str:
    """A short id for one interaction; sets it for the current context and returns it."""
    rid = f"{prefix}{uuid.uuid4().hex[:10]}"
    request_id_var.set(rid)
    return rid


class RedactSecrets(logging.Filter):
    """Masks known secret values in every record's final message, and adds the request id."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Short values would mask innocent text; real secrets are long.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 6}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        if self._secrets:
            message = record.getMessage()
            masked = self._mask(message)
            if masked != message:
                record.msg, record.args = masked, None
            if record.exc_info:
                # Formatters reuse exc_text once set: the traceback they print is the masked one.
                record.exc_text = self._mask(record.exc_text or _TRACEBACKS.formatException(record.exc_info))
            if record.stack_info:
                record.stack_info = self._mask(record.stack_info)
        return True

    def _mask(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, _MASK)
        return text


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(
    fmt: Literal["text", "json"] = "text",
    *,
    secrets: Iterable[str] = (),
    level: int = logging.INFO,
) -> None:
    """Replace the root logger's handlers with one stderr handler in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactSecrets(secrets))
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s", "%H:%M:%S")
        )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx2", "httpcore2", "aiosqlite", "sqlalchemy.engine", "mcp.server.lowlevel.server"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
