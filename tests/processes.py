"""Running alm-bot as an operator does: ``python -m alm_bot.cli …`` in its own process.

`clean_env(**variables)` is the environment a process gets: the basics of this one (PATH, HOME, …)
and the given variables — never the test runner's ANAPLAN_*/SLACK_*/ALM_BOT_* settings.
`sandbox_config(dir)` writes the TOML configuration for the sandbox's tenant.
`run_alm_bot(...)` runs a command to its end (bounded) and returns its exit code and output.
`spawn_alm_bot(...)` starts a long-running one (``serve``, ``sandbox``) whose output goes to files
(no pipe can fill up and stall it), waits for lines of its banner, and always stops it on the way
out: SIGTERM, a bounded wait, then SIGKILL.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process

from alm_bot.sandbox import seed
from tests.live import eventually

__all__ = [
    "ALM_BOT",
    "PROCESS_WAIT",
    "Finished",
    "Spawned",
    "clean_env",
    "run_alm_bot",
    "sandbox_config",
    "spawn_alm_bot",
]

ALM_BOT = (sys.executable, "-m", "alm_bot.cli")
_KEPT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")
PROCESS_WAIT = 60.0
"""Bound of a process's start, run or stop: far above the second or two it takes, because ten of
them starting at once on a busy two-core machine can each take several."""


def clean_env(**variables: str) -> dict[str, str]:
    """The basics of this process's environment plus ``variables``; no alm-bot settings leak in."""
    basics = {name: os.environ[name] for name in _KEPT if name in os.environ}
    return basics | {"PYTHONUNBUFFERED": "1", "NO_COLOR": "1"} | variables


def sandbox_config(directory: Path) -> Path:
    """``alm-bot.toml`` for the sandbox tenant: dev/test/prod (prod protected), two approvers, C0APPROVALS."""
    path = directory / "alm-bot.toml"
    path.write_text(
        f"""
[approval]
channel = "C0APPROVALS"
approvers = ["U0APPROVER1", "U0APPROVER2"]

[models.dev]
id = "{seed.DEV_MODEL_ID}"

[models.test]
id = "{seed.TEST_MODEL_ID}"

[models.prod]
id = "{seed.PROD_MODEL_ID}"
protected = true
"""
    )
    return path


@dataclass(frozen=True)
class Finished:
    """A command that ran to its end."""

    code: int
    stdout: str
    stderr: str


async def run_alm_bot(
    *args: str,
    env: dict[str, str],
    cwd: Path,
    timeout: float = PROCESS_WAIT,  # noqa: ASYNC109 - the bound is the point
) -> Finished:
    """Run ``alm-bot ARGS`` to its end (killed after ``timeout`` seconds)."""
    with anyio.fail_after(timeout):
        done = await anyio.run_process([*ALM_BOT, *args], env=env, cwd=cwd, check=False)
    return Finished(done.returncode, done.stdout.decode(), done.stderr.decode())


@dataclass(repr=False)
class Spawned:
    """A running alm-bot process; ``stdout``/``stderr`` read what it wrote so far."""

    process: Process
    stdout_path: Path
    stderr_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    async def line(self, pattern: str) -> re.Match[str]:
        """The first stdout line matching ``pattern`` (waits for it; fails if the process exits first)."""
        found: list[re.Match[str]] = []

        def printed() -> bool:
            found[:] = [m for m in map(re.compile(pattern).search, self.stdout.splitlines()) if m][:1]
            if not found and self.process.returncode is not None:
                code = self.process.returncode
                raise AssertionError(f"exited {code} before printing {pattern!r}: {self!r}")
            return bool(found)

        await eventually(printed, f"a line matching {pattern!r}", timeout=PROCESS_WAIT)
        return found[0]

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send ``sig`` and wait (bounded) for the exit code."""
        if self.process.returncode is None:
            self.process.send_signal(sig)
        with anyio.fail_after(PROCESS_WAIT):
            return await self.process.wait()

    def __repr__(self) -> str:
        """What it printed: shown when an assertion about the process fails."""
        return f"stdout:\n{self.stdout}\nstderr:\n{self.stderr}"


@asynccontextmanager
async def spawn_alm_bot(
    *args: str, env: dict[str, str], cwd: Path, name: str = "alm-bot"
) -> AsyncIterator[Spawned]:
    """Start ``alm-bot ARGS``, output in ``cwd/NAME.out`` and ``.err``; SIGTERM, then SIGKILL, at the end."""
    stdout_path, stderr_path = cwd / f"{name}.out", cwd / f"{name}.err"
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = await anyio.open_process([*ALM_BOT, *args], env=env, cwd=cwd, stdout=out, stderr=err)
    spawned = Spawned(process, stdout_path, stderr_path)
    try:
        yield spawned
    finally:
        with anyio.CancelScope(shield=True):
            try:
                await spawned.stop()
            except TimeoutError:
                process.kill()
            await process.aclose()
