"""`alm-bot sandbox` serves the sandbox over real HTTP on loopback."""

from __future__ import annotations

import socket
import sys

import anyio
import httpx2
import pytest

from alm_bot.cli import main
from alm_bot.sandbox import seed

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


async def wait_until_serving(http: httpx2.AsyncClient, url: str) -> httpx2.Response:
    with anyio.fail_after(15):
        while True:
            try:
                return await http.get(url)
            except httpx2.TransportError:
                await anyio.sleep(0.05)


async def test_alm_bot_sandbox_answers_on_the_given_port_and_prints_the_urls() -> None:
    port = free_port()
    command = [sys.executable, "-m", "alm_bot.cli", "sandbox", "--port", str(port)]
    async with await anyio.open_process(command) as process:
        try:
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                info = await wait_until_serving(http, "/_sandbox")
                login = await http.post("/token/authenticate", auth=(seed.ADMIN_USER, seed.PASSWORD))
        finally:
            process.terminate()
            with anyio.fail_after(10):
                await process.wait()
        assert process.stdout is not None
        printed = (await process.stdout.receive()).decode()

    assert info.json()["api_url"] == f"http://127.0.0.1:{port}/2/0"
    assert login.status_code == 201
    assert login.json()["meta"]["validationUrl"] == f"http://127.0.0.1:{port}/token/validate"
    assert f"ANAPLAN_API_URL=http://127.0.0.1:{port}/2/0" in printed
    assert f"ANAPLAN_AUTH_URL=http://127.0.0.1:{port}" in printed
    assert seed.ADMIN_USER in printed


def test_alm_bot_sandbox_on_a_busy_port_exits_1_with_a_message(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()

        code = main(["sandbox", "--port", str(busy.getsockname()[1])])

    assert code == 1
    assert "Cannot listen on 127.0.0.1" in capsys.readouterr().err


async def test_alm_bot_sandbox_runs_tasks_for_the_given_task_duration() -> None:
    port = free_port()
    command = [sys.executable, "-m", "alm_bot.cli", "sandbox", "--port", str(port), "--task-duration", "600"]
    async with await anyio.open_process(command) as process:
        try:
            async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                info = await wait_until_serving(http, "/_sandbox")
        finally:
            process.terminate()
            with anyio.fail_after(10):
                await process.wait()

    assert info.json()["task_duration"] == 600


def test_alm_bot_sandbox_refuses_a_negative_task_duration(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["sandbox", "--port", "0", "--task-duration", "-1"])

    assert code == 1
    assert "'-1' is not a number of seconds" in capsys.readouterr().err
