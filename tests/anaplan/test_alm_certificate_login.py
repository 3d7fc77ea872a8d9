"""Certificate login against the sandbox's verifying auth service: v2 payloads by default (timestamped,
fresh each time, a replay refused), v1 on request (refused under strict auth), and certificates and
keys as PEM, DER, PKCS#12 or a PEM chain of which only the leaf is sent."""

from __future__ import annotations

import base64
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from alm_bot.anaplan import AnaplanClient, CertificateAuth
from alm_bot.errors import AuthenticationFailed
from alm_bot.sandbox import Sandbox, create_app, seed
from alm_bot.sandbox.fidelity import Fidelity

pytestmark = pytest.mark.anyio

NOW = 1_780_000_000.0
PASSWORD = "p12-pass"


def sandbox_clock() -> float:
    return NOW


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _certificate(
    subject_key: rsa.RSAPrivateKey, issuer_key: rsa.RSAPrivateKey, name: str
) -> x509.Certificate:
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, seed.ADMIN_USER),
        ]
    )
    start = datetime.fromtimestamp(NOW, tz=UTC) - timedelta(days=1)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")]))
        .public_key(subject_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=30))
        .sign(issuer_key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def leaf(key: rsa.RSAPrivateKey) -> x509.Certificate:
    return _certificate(key, key, "alm-bot integration")


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_bytes(key: rsa.RSAPrivateKey, encoding: serialization.Encoding) -> bytes:
    return key.private_bytes(encoding, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


@asynccontextmanager
async def tenant(strict: bool = False) -> AsyncIterator[Sandbox]:
    yield Sandbox(rate_limit_per_second=None, clock=sandbox_clock, fidelity=Fidelity(strict_auth=strict))


def client_for(sandbox: Sandbox, auth: CertificateAuth) -> AnaplanClient:
    return AnaplanClient(
        auth=auth,
        api_url="http://sandbox.test/2/0",
        auth_url="http://sandbox.test",
        transport=httpx2.ASGITransport(create_app(sandbox)),
    )


async def log_in(sandbox: Sandbox, auth: CertificateAuth) -> None:
    async with client_for(sandbox, auth) as client:
        await client.login()


# --- the payload ----------------------------------------------------------------------------------


def test_a_v2_payload_is_a_big_endian_timestamp_then_random_bytes_signed_as_a_whole(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate
) -> None:
    auth = CertificateAuth(pem(leaf), key_bytes(key, serialization.Encoding.PEM), now=lambda: NOW + 0.9)

    first, second = auth.login_request(), auth.login_request()

    assert first.json is not None
    assert second.json is not None
    data = base64.b64decode(first.json["encodedData"])
    assert first.json["encodedDataFormat"] == "v2"
    assert len(data) == 150
    assert data[:8] == int(NOW).to_bytes(8, "big")
    key.public_key().verify(
        base64.b64decode(first.json["encodedSignedData"]), data, padding.PKCS1v15(), hashes.SHA512()
    )
    assert first.json["encodedData"] != second.json["encodedData"], "a fresh payload for every login"


def test_a_v1_payload_has_no_format_field_and_no_timestamp(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate
) -> None:
    auth = CertificateAuth(pem(leaf), key_bytes(key, serialization.Encoding.PEM), cert_format="v1")

    body = auth.login_request().json

    assert body is not None
    assert set(body) == {"encodedData", "encodedSignedData"}
    assert len(base64.b64decode(body["encodedData"])) == 150


# --- against the sandbox -------------------------------------------------------------------------


async def test_strict_auth_accepts_a_v2_payload_and_refuses_v1(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate
) -> None:
    key_pem = key_bytes(key, serialization.Encoding.PEM)
    async with tenant(strict=True) as sandbox:
        await log_in(sandbox, CertificateAuth(pem(leaf), key_pem, now=sandbox_clock))
        with pytest.raises(AuthenticationFailed, match="v1 certificate payload is no longer accepted"):
            await log_in(sandbox, CertificateAuth(pem(leaf), key_pem, cert_format="v1"))

    assert [e.status for e in sandbox.request_log] == [201, 401]


async def test_without_strict_auth_v1_is_still_accepted(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate
) -> None:
    async with tenant() as sandbox:
        await log_in(
            sandbox, CertificateAuth(pem(leaf), key_bytes(key, serialization.Encoding.PEM), cert_format="v1")
        )

    assert [e.status for e in sandbox.request_log] == [201]


async def test_a_replayed_v2_payload_is_refused(key: rsa.RSAPrivateKey, leaf: x509.Certificate) -> None:
    auth = CertificateAuth(pem(leaf), key_bytes(key, serialization.Encoding.PEM), now=sandbox_clock)
    request = auth.login_request()
    async with tenant() as sandbox:
        transport = httpx2.ASGITransport(create_app(sandbox))
        async with httpx2.AsyncClient(transport=transport, base_url="http://sandbox.test") as raw:
            first = await raw.post("/token/authenticate", headers=request.headers, json=request.json)
            replay = await raw.post("/token/authenticate", headers=request.headers, json=request.json)

    assert first.status_code == 201
    assert replay.status_code == 401
    assert "already used" in replay.json()["statusMessage"]


@pytest.mark.parametrize("offset", [-301.0, 301.0])
async def test_a_v2_timestamp_more_than_five_minutes_off_is_refused(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate, offset: float
) -> None:
    auth = CertificateAuth(pem(leaf), key_bytes(key, serialization.Encoding.PEM), now=lambda: NOW + offset)
    async with tenant() as sandbox:
        with pytest.raises(AuthenticationFailed, match="5 minutes"):
            await log_in(sandbox, auth)


async def test_der_certificate_and_der_key_log_in(key: rsa.RSAPrivateKey, leaf: x509.Certificate) -> None:
    der_cert = leaf.public_bytes(serialization.Encoding.DER)
    auth = CertificateAuth(der_cert, key_bytes(key, serialization.Encoding.DER), now=sandbox_clock)
    async with tenant(strict=True) as sandbox:
        await log_in(sandbox, auth)


async def test_a_pkcs12_file_with_its_password_logs_in_without_a_separate_key(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate
) -> None:
    bundle = pkcs12.serialize_key_and_certificates(
        b"alm-bot", key, leaf, None, serialization.BestAvailableEncryption(PASSWORD.encode())
    )
    auth = CertificateAuth(bundle, None, PASSWORD, now=sandbox_clock)
    async with tenant(strict=True) as sandbox:
        await log_in(sandbox, auth)

    assert "CN=alm-bot integration" in auth.subject


async def test_a_pem_chain_sends_only_the_leaf_and_says_so_once(
    key: rsa.RSAPrivateKey, leaf: x509.Certificate, caplog: pytest.LogCaptureFixture
) -> None:
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    intermediate = _certificate(ca_key, ca_key, "Intermediate CA")
    chain = pem(intermediate) + pem(leaf) + pem(intermediate)

    with caplog.at_level(logging.INFO, logger="alm_bot.anaplan"):
        auth = CertificateAuth(chain, key_bytes(key, serialization.Encoding.PEM), now=sandbox_clock)
    request = auth.login_request()
    async with tenant(strict=True) as sandbox:
        await log_in(sandbox, auth)

    sent = base64.b64decode(request.headers["Authorization"].removeprefix("CACertificate "))
    assert x509.load_pem_x509_certificates(sent) == [leaf]
    chain_lines = [r for r in caplog.records if "chain of 3 certificates" in r.getMessage()]
    assert len(chain_lines) == 1
