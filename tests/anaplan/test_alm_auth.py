"""Logging in (basic, certificate, static token), renewing the token before it expires, the one
re-login and replay after a 401, and single-flight renewal under concurrency."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import anyio
import httpx2
import pytest
from anaplan_fakes import (
    API,
    AUTH,
    PASSWORD,
    TARGET,
    TASK,
    USER,
    FakeAnaplan,
    FakeTime,
    bad_credential,
    envelope,
    make_client,
    task_info,
)
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from alm_bot.anaplan import BasicAuth, CertificateAuth, TokenAuth
from alm_bot.errors import AnaplanUnavailable, AuthenticationFailed, InvalidArgument

pytestmark = pytest.mark.anyio

SYNC_TASK = f"/models/{TARGET}/alm/syncTasks/{TASK}"
KEY_PASSWORD = "key-pass-phrase-42"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate_pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alm-bot test")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(rsa_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def encrypted_key_pem(rsa_key: rsa.RSAPrivateKey) -> bytes:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(KEY_PASSWORD.encode()),
    )


def serve_sync_task(fake: FakeAnaplan) -> None:
    fake.on("GET", SYNC_TASK, envelope("task", task_info()))


# --- basic -----------------------------------------------------------------------------------------


async def test_the_first_call_logs_in_with_basic_auth_and_later_calls_reuse_the_token(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        await alm.get_sync_task(TASK)

    (login,) = fake.auth_calls("/token/authenticate")
    assert login.method == "POST"
    assert (
        login.headers["authorization"] == "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    )
    assert login.content == b""
    assert [r.headers["authorization"] for r in fake.api_calls()] == ["AnaplanAuthToken token-1"] * 2


async def test_login_authenticates_immediately(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    async with make_client(fake, fake_time) as client:
        await client.login()

    assert fake.logins == 1
    assert fake.api_calls() == []


async def test_bad_credentials_raise_authentication_failed_with_anaplans_reason_and_no_password(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    async with make_client(fake, fake_time, auth=BasicAuth(USER, "wrong-password-123")) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            await client.login()

    message = str(caught.value)
    assert "Invalid credentials" in message
    assert USER in message
    assert "wrong-password-123" not in message
    assert caught.value.status == 401
    assert fake.logins == 1  # a refused login is not retried


async def test_a_path_prefix_on_both_urls_is_kept(fake_time: FakeTime) -> None:
    fake = FakeAnaplan(api="http://127.0.0.1:8000/sandbox/2/0", auth="http://127.0.0.1:8000/sandbox")
    serve_sync_task(fake)
    client = make_client(
        fake,
        fake_time,
        api_url="http://127.0.0.1:8000/sandbox/2/0/",
        auth_url="http://127.0.0.1:8000/sandbox",
    )
    async with client:
        await client.alm(TARGET).get_sync_task(TASK)

    assert [str(r.url) for r in fake.requests] == [
        "http://127.0.0.1:8000/sandbox/token/authenticate",
        f"http://127.0.0.1:8000/sandbox/2/0/models/{TARGET}/alm/syncTasks/{TASK}",
    ]


# --- certificate -----------------------------------------------------------------------------------


def verify_certificate_login(request: httpx2.Request, certificate_pem: bytes) -> bool:
    """What Anaplan checks: the certificate in the header, and the signature over the random bytes."""
    scheme, _, encoded = request.headers["authorization"].partition(" ")
    assert scheme == "CACertificate"
    assert base64.b64decode(encoded) == certificate_pem
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    data = base64.b64decode(body["encodedData"])
    assert len(data) == 150
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    try:
        public_key.verify(
            base64.b64decode(body["encodedSignedData"]), data, padding.PKCS1v15(), hashes.SHA512()
        )
    except InvalidSignature:
        return False
    return True


async def test_certificate_login_sends_the_pem_certificate_and_a_verifiable_sha512_signature(
    fake: FakeAnaplan, fake_time: FakeTime, certificate_pem: bytes, encrypted_key_pem: bytes
) -> None:
    fake.check_login = lambda request: verify_certificate_login(request, certificate_pem)
    auth = CertificateAuth(certificate_pem, encrypted_key_pem, KEY_PASSWORD)

    async with make_client(fake, fake_time, auth=auth) as client:
        await client.login()
        await client.login()

    first, second = (json.loads(r.content)["encodedData"] for r in fake.auth_calls("/token/authenticate"))
    assert first != second  # fresh random bytes for every login
    assert fake.issued == 2


def test_a_key_that_does_not_belong_to_the_certificate_is_refused_at_construction(
    certificate_pem: bytes,
) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )

    with pytest.raises(InvalidArgument, match="does not belong to the private key"):
        CertificateAuth(certificate_pem, other_key, None)


def test_certificate_auth_reads_pem_files(
    tmp_path: Path, certificate_pem: bytes, encrypted_key_pem: bytes
) -> None:
    (tmp_path / "cert.pem").write_bytes(certificate_pem)
    (tmp_path / "key.pem").write_bytes(encrypted_key_pem)

    auth = CertificateAuth(tmp_path / "cert.pem", tmp_path / "key.pem", KEY_PASSWORD)

    assert auth.login_request().headers["Authorization"].startswith("CACertificate ")


def test_a_wrong_private_key_password_is_refused_at_construction(
    certificate_pem: bytes, encrypted_key_pem: bytes
) -> None:
    with pytest.raises(InvalidArgument, match="private key password") as caught:
        CertificateAuth(certificate_pem, encrypted_key_pem, "not-the-password")

    assert caught.value.argument == "private_key"
    assert "not-the-password" not in str(caught.value)


def test_something_that_is_not_a_certificate_is_refused_at_construction(encrypted_key_pem: bytes) -> None:
    with pytest.raises(InvalidArgument) as caught:
        CertificateAuth(b"hello", encrypted_key_pem, KEY_PASSWORD)

    assert caught.value.argument == "certificate"


def test_a_missing_certificate_file_is_refused_naming_the_file(
    tmp_path: Path, encrypted_key_pem: bytes
) -> None:
    with pytest.raises(InvalidArgument, match=r"nope\.pem"):
        CertificateAuth(tmp_path / "nope.pem", encrypted_key_pem, KEY_PASSWORD)


# --- renewal before expiry -------------------------------------------------------------------------


async def test_the_token_is_refreshed_shortly_before_it_expires_and_the_refreshed_value_is_used(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        fake_time.advance(29 * 60)  # 6 minutes left of 35: not yet
        await alm.get_sync_task(TASK)
        assert fake.refreshes == 0
        fake_time.advance(2 * 60)  # 4 minutes left: inside the 5-minute margin
        await alm.get_sync_task(TASK)

    (refresh,) = fake.auth_calls("/token/refresh")
    assert refresh.method == "POST"
    assert refresh.headers["authorization"] == "AnaplanAuthToken token-1"
    assert fake.logins == 1
    assert [r.headers["authorization"] for r in fake.api_calls()][-1] == "AnaplanAuthToken token-2"


async def test_a_refused_refresh_falls_back_to_a_full_login(fake: FakeAnaplan, fake_time: FakeTime) -> None:
    serve_sync_task(fake)
    fake.on_auth("/token/refresh", bad_credential("Token expired"))
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        fake_time.advance(32 * 60)
        await alm.get_sync_task(TASK)

    assert len(fake.auth_calls("/token/refresh")) == 1
    assert fake.logins == 2
    assert fake.api_calls()[-1].headers["authorization"] == "AnaplanAuthToken token-2"


async def test_a_refresh_that_fails_transiently_keeps_the_still_valid_token(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    fake.on_auth("/token/refresh", httpx2.Response(503))
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        fake_time.advance(32 * 60)
        task = await alm.get_sync_task(TASK)

    assert task.task_id == TASK
    assert fake.api_calls()[-1].headers["authorization"] == "AnaplanAuthToken token-1"
    assert fake.logins == 1


async def test_a_refresh_that_fails_after_the_token_expired_is_raised(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    fake.on_auth("/token/refresh", httpx2.Response(503))
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        fake_time.advance(36 * 60)
        with pytest.raises(AnaplanUnavailable):
            await alm.get_sync_task(TASK)


# --- 401 from the API ------------------------------------------------------------------------------


async def test_a_401_from_the_api_logs_in_again_and_replays_the_request_exactly_once(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await alm.get_sync_task(TASK)
        fake.revoke_tokens()  # e.g. logged out elsewhere: the API now answers 401
        await alm.get_sync_task(TASK)

    assert fake.logins == 2
    assert [r.headers["authorization"] for r in fake.api_calls()] == [
        "AnaplanAuthToken token-1",
        "AnaplanAuthToken token-1",
        "AnaplanAuthToken token-2",
    ]


async def test_a_second_401_after_the_replay_raises_authentication_failed(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    fake.on("GET", SYNC_TASK, httpx2.Response(401, json={"status": {"code": 401, "message": "Unauthorized"}}))
    async with make_client(fake, fake_time) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            await client.alm(TARGET).get_sync_task(TASK)

    assert len(fake.api_calls()) == 2
    assert fake.logins == 2
    assert caught.value.status == 401


# --- single flight ---------------------------------------------------------------------------------


async def test_ten_concurrent_calls_with_an_expired_token_cause_exactly_one_refresh(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await client.login()
        fake_time.advance(36 * 60)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(alm.get_sync_task, TASK)

    assert fake.refreshes == 1
    assert fake.logins == 1
    assert {r.headers["authorization"] for r in fake.api_calls()} == {"AnaplanAuthToken token-2"}


async def test_ten_concurrent_first_calls_cause_exactly_one_login(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(alm.get_sync_task, TASK)

    assert fake.logins == 1
    assert fake.refreshes == 0
    assert len(fake.api_calls()) == 10


async def test_ten_concurrent_401s_cause_exactly_one_new_login(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await client.login()
        fake.revoke_tokens()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(alm.get_sync_task, TASK)

    assert fake.logins == 2
    assert len(fake.api_calls()) == 20  # each call: one 401, one replay


async def test_concurrent_calls_are_in_flight_at_the_same_time(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    arrived = 0
    all_arrived = anyio.Event()

    async def wait_for_everyone(request: httpx2.Request) -> httpx2.Response:
        nonlocal arrived
        arrived += 1
        if arrived == 10:
            all_arrived.set()
        await all_arrived.wait()  # deadlocks (and fails the test) if the client serialises calls
        return envelope("task", task_info())

    fake.on("GET", SYNC_TASK, wait_for_everyone)
    async with make_client(fake, fake_time) as client:
        alm = client.alm(TARGET)
        await client.login()
        with anyio.fail_after(5):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(alm.get_sync_task, TASK)

    assert arrived == 10


# --- static token ----------------------------------------------------------------------------------


async def test_a_static_token_is_sent_as_is_without_logging_in(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    fake.valid_tokens.add("static-token-abc")
    async with make_client(fake, fake_time, auth=TokenAuth("static-token-abc")) as client:
        await client.alm(TARGET).get_sync_task(TASK)

    assert fake.auth_calls() == []
    assert fake.api_calls()[0].headers["authorization"] == "AnaplanAuthToken static-token-abc"


async def test_a_refused_static_token_raises_authentication_failed_without_a_login(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    async with make_client(fake, fake_time, auth=TokenAuth("stale-token")) as client:
        with pytest.raises(AuthenticationFailed, match="token"):
            await client.alm(TARGET).get_sync_task(TASK)

    assert fake.auth_calls() == []
    assert len(fake.api_calls()) == 1


async def test_login_with_a_static_token_validates_it_and_then_refreshes_before_expiry(
    fake: FakeAnaplan, fake_time: FakeTime
) -> None:
    serve_sync_task(fake)
    fake.valid_tokens.add("static-token-abc")
    async with make_client(fake, fake_time, auth=TokenAuth("static-token-abc")) as client:
        await client.login()
        fake_time.advance(32 * 60)
        await client.alm(TARGET).get_sync_task(TASK)

    assert [r.url.path for r in fake.auth_calls()] == ["/token/validate", "/token/refresh"]
    assert fake.api_calls()[0].headers["authorization"] == "AnaplanAuthToken token-1"


def test_the_default_urls_are_anaplans_legacy_hosts() -> None:
    from alm_bot.anaplan import DEFAULT_API_URL, DEFAULT_AUTH_URL

    assert (DEFAULT_API_URL, DEFAULT_AUTH_URL) == ("https://api.anaplan.com/2/0", "https://auth.anaplan.com")
    assert API != DEFAULT_API_URL  # the tests never talk to the real hosts
    assert AUTH != DEFAULT_AUTH_URL
