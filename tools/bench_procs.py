"""Spawned alm-bot processes for benchmarks and reliability tests: start, find the port, always stop.

`spawn()` starts ``python -m alm_bot.cli …`` in a working directory of its own, with a clean
environment (no developer's ``ANAPLAN_*``/``SLACK_*``/``ALM_BOT_*`` leaks in, no ``.env`` is found),
reads the first banner line for the URL it serves on (``--port 0`` picks a free port, so nothing
collides), and on the way out stops the process — SIGTERM, then SIGKILL if it does not go in time.
stdout and stderr go to files in the working directory, so a failing test can show the logs and a
chatty process can never block on a full pipe.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import anyio
import httpx2
from anyio.abc import Process

__all__ = ["Spawned", "clean_env", "spawn", "spawn_sandbox", "spawn_serve", "stop", "wait_healthy"]

_URL: Final = re.compile(r"https?://[^\s/]+")
_PREFIXES: Final = ("ANAPLAN_", "SLACK_", "ALM_BOT_")
START_SECONDS: Final = 30.0
STOP_SECONDS: Final = 15.0


def clean_env(**variables: str) -> dict[str, str]:
    """The current environment without alm-bot's own variables, plus ``variables``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    env.update(variables)
    return env


@dataclass
class Spawned:
    """A running alm-bot process: its base URL (from the banner), pid and log files."""

    process: Process
    url: str
    workdir: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def logs(self) -> str:
        """stdout and stderr so far, for failure messages."""
        parts = []
        for name in ("stdout.log", "stderr.log"):
            path = self.workdir / name
            if path.exists():
                parts.append(f"--- {name} ---\n{path.read_text(errors='replace')[-6000:]}")
        return "\n".join(parts)


async def _banner_url(process: Process, workdir: Path) -> str:
    """Wait (bounded) for the first banner line in stdout.log and take the URL from it."""
    out = workdir / "stdout.log"
    with anyio.fail_after(START_SECONDS):
        while True:
            text = out.read_text(errors="replace") if out.exists() else ""
            first, newline, _ = text.partition("\n")
            if newline and (found := _URL.search(first)):
                return found.group(0)
            if process.returncode is not None:
                err = (workdir / "stderr.log").read_text(errors="replace")
                raise RuntimeError(f"process exited with {process.returncode} before serving:\n{err}")
            await anyio.sleep(0.02)  # polling a file: there is no event to wait on


async def stop(process: Process, *, kill: bool = False) -> None:
    """SIGKILL at once (``kill``), or SIGTERM and SIGKILL after `STOP_SECONDS`; waits for the exit."""
    if process.returncode is None:
        if kill:
            process.send_signal(signal.SIGKILL)
        else:
            process.terminate()
        with anyio.move_on_after(STOP_SECONDS):
            await process.wait()
        if process.returncode is None:
            process.kill()
    with anyio.CancelScope(shield=True), anyio.fail_after(STOP_SECONDS):
        await process.wait()


@asynccontextmanager
async def spawn(
    arguments: Sequence[str], workdir: Path, env: Mapping[str, str] | None = None
) -> AsyncIterator[Spawned]:
    """Run ``alm-bot <arguments>`` in ``workdir`` until the block ends; yields once it has printed its URL."""
    await anyio.Path(workdir).mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "alm_bot.cli", *arguments]
    with (workdir / "stdout.log").open("wb") as out, (workdir / "stderr.log").open("wb") as err:
        process = await anyio.open_process(
            command, stdin=None, stdout=out, stderr=err, cwd=workdir, env=dict(env or clean_env())
        )
        try:
            url = await _banner_url(process, workdir)
            yield Spawned(process, url, workdir)
        finally:
            await stop(process)
            await process.aclose()


def spawn_sandbox(
    workdir: Path, *, task_duration: float | None = None
) -> AbstractAsyncContextManager[Spawned]:
    """``alm-bot sandbox --port 0`` (rate limit as shipped; tasks take ``task_duration`` s)."""
    arguments = ["sandbox", "--port", "0"]
    if task_duration is not None:
        arguments += ["--task-duration", str(task_duration)]
    return spawn(arguments, workdir)


def spawn_serve(
    workdir: Path, env: Mapping[str, str], *, sandbox: bool = False
) -> AbstractAsyncContextManager[Spawned]:
    """``alm-bot serve --port 0 [--sandbox]`` with ``env`` over a clean environment."""
    arguments = ["serve", "--port", "0", *(["--sandbox"] if sandbox else [])]
    return spawn(arguments, workdir, clean_env(**env))


async def wait_healthy(url: str, *, seconds: float = START_SECONDS) -> dict[str, Any]:
    """Poll ``GET /healthz`` until it says ok (bounded); returns its body."""
    async with httpx2.AsyncClient(timeout=5.0) as http:
        with anyio.fail_after(seconds):
            while True:
                try:
                    reply = await http.get(f"{url}/healthz")
                except httpx2.TransportError:
                    reply = None
                if reply is not None and reply.status_code == 200:
                    body: dict[str, Any] = reply.json()
                    return body
                await anyio.sleep(0.05)  # the watcher's first pass sets the heartbeat; no event to wait on
