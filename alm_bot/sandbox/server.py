"""Serve the sandbox over HTTP with uvicorn (`alm-bot sandbox`), on loopback by default.

The socket is bound here, before uvicorn starts, so a busy port becomes a one-line error (not a
uvicorn exit) and the printed URLs carry the real port.
"""

from __future__ import annotations

import socket

import uvicorn

from alm_bot.errors import AlmBotError
from alm_bot.sandbox import seed
from alm_bot.sandbox.app import create_app
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.sandbox.sandbox import Sandbox

__all__ = ["banner", "run"]


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
    except OSError as exc:
        raise AlmBotError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise AlmBotError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}. Choose another --port."
        ) from None
    return sock


def banner(host: str, port: int) -> str:
    """What to tell the operator: the two URLs to configure and the logins."""
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{port}"
    return "\n".join(
        [
            f"Anaplan sandbox listening on {base}",
            f"  ANAPLAN_API_URL={base}/2/0",
            f"  ANAPLAN_AUTH_URL={base}",
            f"  ANAPLAN_USERNAME={seed.ADMIN_USER}  ANAPLAN_PASSWORD={seed.PASSWORD}"
            "  (Workspace Administrator in FP&A)",
            f"  also: {seed.VIEWER_USER} / {seed.PASSWORD} (Workspace Administrator nowhere)",
            f"  control: {base}/_sandbox  (reset, faults, clock, requests)",
        ]
    )


def run(host: str, port: int, task_duration: float = 3.0, strict_auth: bool = False) -> int:
    """Serve until interrupted; returns the exit code. Tasks take ``task_duration`` seconds;
    ``strict_auth`` refuses v1 certificate logins."""
    if task_duration < 0:
        raise AlmBotError("--task-duration cannot be negative.")
    sock = _bind(host, port)
    bound_port = sock.getsockname()[1]
    print(banner(host, bound_port), flush=True)
    sandbox = Sandbox(task_duration=task_duration, fidelity=Fidelity(strict_auth=strict_auth))
    config = uvicorn.Config(create_app(sandbox), log_level="warning", access_log=False, lifespan="off")
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
