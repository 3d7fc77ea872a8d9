"""Secrets (password, token, private key password) never show in logs, error messages or reprs;
every request leaves one debug line with method, path, status and elapsed time."""

from __future__ import annotations

import datetime as dt
import logging

import httpx2
import pytest
from anaplan_fakes import (
    PASSWORD,
    TARGET,
    TASK,
    USER,
    FakeAnaplan,
    FakeTime,
    envelope,
    failure,
    make_client,
    task_info,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from alm_bot.anaplan import BasicAuth, CertificateAuth, TokenAuth
from alm_bot.errors import AlmBotError, AuthenticationFailed

pytestmark = pytest.mark.anyio

SYNC_TASK = f"/models/{TARGET}/alm/syncTasks/{TASK}"
KEY_PASSWORD = "key-pass-phrase-42"
STATIC_TOKEN = "static-token-SECRET-0042"


def secrets_of(fake: FakeAnaplan) -> list[str]:
    return [
        PASSWORD,
        KEY_PASSWORD,
        STATIC_TOKEN,
        *fake.valid_tokens,
        *(f"token-{i}" for i in range(1, fake.issued + 1)),
    ]


async def test_a_whole_session_logs_no_secret_and_one_debug_line_per_request(
    fake: FakeAnaplan, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("GET", SYNC_TASK, envelope("task", task_info()), failure(503), envelope("task", task_info()))
    fake.on("GET", f"/models/{TARGET}/alm/syncTasks", failure(403, "Forbidden"))
    caught: list[AlmBotError] = []
    with caplog.at_level(logging.DEBUG):
        async with make_client(fake, fake_time) as client:
            alm = client.alm(TARGET)
            await alm.get_sync_task(TASK)
            fake_time.advance(32 * 60)  # refresh
            await alm.get_sync_task(TASK)  # 503, retried
            fake.revoke_tokens()  # 401, re-login, replay
            await alm.get_sync_task(TASK)
            try:
                await alm.get_sync_tasks()
            except AlmBotError as error:
                caught.append(error)

    assert fake.issued == 3
    text = caplog.text
    for secret in secrets_of(fake):
        assert secret not in text
        assert all(secret not in str(e) and secret not in repr(e) for e in caught)
    assert "AnaplanAuthToken" not in text
    assert "Basic " not in text
    debug_lines = [
        r.getMessage() for r in caplog.records if r.name == "alm_bot.anaplan" and r.levelno == logging.DEBUG
    ]
    assert "POST /token/authenticate -> 201 in" in debug_lines[0]
    assert any(line.startswith(f"GET {SYNC_TASK} -> 503 in") for line in debug_lines)
    assert any(line.startswith("POST /token/refresh -> 200 in") for line in debug_lines)
    assert any(line.startswith(f"GET {SYNC_TASK} -> 401 in") for line in debug_lines)
    assert sum(" -> " in line for line in debug_lines) == len(fake.requests)


async def test_a_failed_login_neither_logs_nor_says_the_password(
    fake: FakeAnaplan, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        async with make_client(fake, fake_time, auth=BasicAuth(USER, "hunter2-wrong")) as client:
            with pytest.raises(AuthenticationFailed) as caught:
                await client.login()

    assert "hunter2-wrong" not in caplog.text
    assert "hunter2-wrong" not in str(caught.value)
    assert "hunter2-wrong" not in repr(caught.value)


async def test_a_static_token_never_appears_in_errors_or_logs(
    fake: FakeAnaplan, fake_time: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    fake.on("GET", SYNC_TASK, httpx2.Response(200, json={"task": {"taskId": STATIC_TOKEN}}))
    with caplog.at_level(logging.DEBUG):
        async with make_client(fake, fake_time, auth=TokenAuth(STATIC_TOKEN)) as client:
            with pytest.raises(AuthenticationFailed) as caught:
                await client.alm(TARGET).get_sync_task(TASK)

    assert STATIC_TOKEN not in caplog.text
    assert STATIC_TOKEN not in str(caught.value)
    assert STATIC_TOKEN not in repr(caught.value.__dict__)


async def test_an_unreadable_body_does_not_echo_it_in_the_error(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on(
        "GET",
        SYNC_TASK,
        httpx2.Response(200, json={"task": {"taskId": "s3cr3t-looking-value", "taskState": 5}}),
    )
    async with make_client(fake, fake_time) as client:
        with pytest.raises(AlmBotError) as caught:
            await client.alm(TARGET).get_sync_task(TASK)

    assert "s3cr3t-looking-value" not in str(caught.value)


def test_credential_reprs_mask_every_secret() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alm-bot repr")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
        .public_bytes(serialization.Encoding.PEM)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
    )

    basic = BasicAuth(USER, PASSWORD)
    cert = CertificateAuth(certificate, key_pem, KEY_PASSWORD)
    token = TokenAuth(STATIC_TOKEN)

    assert PASSWORD not in repr(basic)
    assert PASSWORD not in str(basic)
    assert USER in repr(basic)
    assert KEY_PASSWORD not in repr(cert)
    assert "PRIVATE KEY" not in repr(cert)
    assert "CN=alm-bot repr" in repr(cert)
    assert STATIC_TOKEN not in repr(token)
    assert STATIC_TOKEN not in str(token)
    assert basic.password.get_secret_value() == PASSWORD
