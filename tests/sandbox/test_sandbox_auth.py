"""The sandbox's auth service: Basic and certificate logins, refresh, validate, logout, expiry."""

from __future__ import annotations

import base64
import json
import os
import re
from datetime import UTC, datetime, timedelta

import httpx2
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import NameOID
from sandbox_calls import FROZEN_NOW, bearer

from alm_bot.sandbox import Sandbox, seed

pytestmark = pytest.mark.anyio

MODELS = "/2/0/models"


async def basic_login(
    client: httpx2.AsyncClient, email: str = seed.ADMIN_USER, password: str = seed.PASSWORD
) -> httpx2.Response:
    return await client.post("/token/authenticate", auth=(email, password))


async def login_token(client: httpx2.AsyncClient) -> str:
    token: str = (await basic_login(client)).json()["tokenInfo"]["tokenValue"]
    return token


# --- certificates ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate(
    key: rsa.RSAPrivateKey, *, email: str | None = seed.ADMIN_USER, cn: str = "alm-bot", days: int = 30
) -> bytes:
    names = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if email is not None:
        names.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email))
    subject = x509.Name(names)
    start = datetime.fromtimestamp(FROZEN_NOW, tz=UTC) - timedelta(days=1)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def certificate_request(
    key: rsa.RSAPrivateKey, pem: bytes, *, data: bytes | None = None, signed: bytes | None = None
) -> dict[str, object]:
    data = os.urandom(150) if data is None else data
    signature = key.sign(signed if signed is not None else data, PKCS1v15(), hashes.SHA512())
    return {
        "headers": {"Authorization": f"CACertificate {base64.b64encode(pem).decode()}"},
        "json": {
            "encodedData": base64.b64encode(data).decode(),
            "encodedSignedData": base64.b64encode(signature).decode(),
        },
    }


async def cert_login(client: httpx2.AsyncClient, request: dict[str, object]) -> httpx2.Response:
    return await client.post("/token/authenticate", **request)  # type: ignore[arg-type]


# --- Basic login ----------------------------------------------------------------------------------


async def test_basic_login_answers_201_with_the_documented_token_shape(client: httpx2.AsyncClient) -> None:
    response = await basic_login(client)

    assert response.status_code == 201
    body = response.json()
    assert body["meta"] == {"validationUrl": "http://sandbox/token/validate"}
    assert body["status"] == "SUCCESS"
    assert body["statusMessage"] == "Login successful"
    info = body["tokenInfo"]
    assert set(info) == {"tokenId", "tokenValue", "expiresAt", "refreshTokenId", "refreshToken"}
    assert info["refreshToken"], "announced by Anaplan's API security changes page"
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", info["tokenId"])
    assert info["expiresAt"] == int((FROZEN_NOW + 35 * 60) * 1000)


async def test_two_logins_in_the_same_instant_get_different_tokens(client: httpx2.AsyncClient) -> None:
    first, second = await basic_login(client), await basic_login(client)

    assert first.json()["tokenInfo"]["tokenValue"] != second.json()["tokenInfo"]["tokenValue"]


@pytest.mark.parametrize(
    ("email", "password"),
    [(seed.ADMIN_USER, "wrong"), ("nobody@sandbox.example", seed.PASSWORD)],
)
async def test_basic_login_with_bad_credentials_is_401_bad_credential(
    client: httpx2.AsyncClient, email: str, password: str
) -> None:
    response = await basic_login(client, email, password)

    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"
    assert response.json()["statusMessage"]


async def test_basic_login_email_is_case_insensitive(client: httpx2.AsyncClient) -> None:
    response = await basic_login(client, seed.ADMIN_USER.upper())

    assert response.status_code == 201


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic !!!not-base64!!!", f"Basic {base64.b64encode(b'no-colon').decode()}", "Digest abc"],
)
async def test_login_with_a_malformed_header_is_400_bad_header(
    client: httpx2.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = await client.post("/token/authenticate", headers=headers)

    assert response.status_code == 400
    assert response.json()["status"] == "FAILURE_BAD_HEADER"


# --- tokens on the API ----------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["AnaplanAuthToken", "Bearer"])
async def test_the_api_accepts_the_token_with_either_scheme(client: httpx2.AsyncClient, scheme: str) -> None:
    token = await login_token(client)

    response = await client.get(MODELS, headers=bearer(token, scheme))

    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, bearer("not-a-token"), {"Authorization": "Basic abc"}])
async def test_the_api_refuses_missing_or_unknown_tokens_with_401_in_the_integration_shape(
    client: httpx2.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(MODELS, headers=headers)

    assert response.status_code == 401
    body = response.json()
    assert body["status"]["code"] == 401
    assert body["status"]["message"]
    assert body["path"] == MODELS
    assert body["timestamp"].startswith("2026-05-28T20:26:40")


async def test_a_token_expires_after_35_minutes_of_sandbox_time(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    token = await login_token(client)
    sandbox.advance(35 * 60 - 1)
    assert (await client.get(MODELS, headers=bearer(token))).status_code == 200

    sandbox.advance(1)

    assert (await client.get(MODELS, headers=bearer(token))).status_code == 401


async def test_token_ttl_is_configurable() -> None:
    short = Sandbox(token_ttl=60, clock=lambda: FROZEN_NOW)
    token = short.token_for()
    short.advance(60)

    assert short.tokens.api_user(f"AnaplanAuthToken {token}", short.now()) is None


# --- refresh, validate, logout --------------------------------------------------------------------


async def test_refresh_keeps_the_token_value_and_extends_its_expiry(
    client: httpx2.AsyncClient, sandbox: Sandbox
) -> None:
    login = (await basic_login(client)).json()["tokenInfo"]
    sandbox.advance(30 * 60)

    response = await client.post("/token/refresh", headers=bearer(login["tokenValue"]))

    assert response.status_code == 200
    body = response.json()
    assert body["statusMessage"] == "Token refreshed"
    assert body["status"] == "SUCCESS"
    assert body["tokenInfo"]["tokenValue"] == login["tokenValue"]
    assert body["tokenInfo"]["refreshTokenId"] == login["refreshTokenId"]
    assert body["tokenInfo"]["expiresAt"] == login["expiresAt"] + 30 * 60 * 1000
    sandbox.advance(10 * 60)
    assert (await client.get(MODELS, headers=bearer(login["tokenValue"]))).status_code == 200


async def test_refreshing_an_expired_token_is_401(client: httpx2.AsyncClient, sandbox: Sandbox) -> None:
    token = await login_token(client)
    sandbox.advance(36 * 60)

    response = await client.post("/token/refresh", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


async def test_validate_returns_the_token_and_its_user(client: httpx2.AsyncClient) -> None:
    login = (await basic_login(client)).json()["tokenInfo"]

    response = await client.get("/token/validate", headers=bearer(login["tokenValue"]))

    assert response.status_code == 200
    body = response.json()
    assert body["statusMessage"] == "Token validated"
    assert body["tokenInfo"] == {"expiresAt": login["expiresAt"], "tokenId": login["tokenId"]}
    assert body["userInfo"] == {
        "userGuid": seed.ADMIN_GUID,
        "userId": seed.ADMIN_USER,
        "customerGuid": seed.CUSTOMER_GUID,
    }


@pytest.mark.parametrize(("method", "path"), [("POST", "/token/refresh"), ("GET", "/token/validate")])
async def test_refresh_and_validate_answer_a_bearer_header_with_400_bad_header(
    client: httpx2.AsyncClient, method: str, path: str
) -> None:
    token = await login_token(client)

    response = await client.request(method, path, headers=bearer(token, "Bearer"))

    assert response.status_code == 400
    assert response.json()["status"] == "FAILURE_BAD_HEADER"


async def test_logout_answers_a_bearer_header_with_401(client: httpx2.AsyncClient) -> None:
    token = await login_token(client)

    response = await client.post("/token/logout", headers=bearer(token, "Bearer"))

    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


async def test_logout_answers_204_and_the_token_stops_working(client: httpx2.AsyncClient) -> None:
    token = await login_token(client)

    response = await client.post("/token/logout", headers=bearer(token))

    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(MODELS, headers=bearer(token))).status_code == 401
    assert (await client.get("/token/validate", headers=bearer(token))).status_code == 401


# --- certificate login ----------------------------------------------------------------------------


async def test_certificate_login_with_a_valid_signature_answers_201_and_a_working_token(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    response = await cert_login(client, certificate_request(key, certificate(key)))

    assert response.status_code == 201
    token = response.json()["tokenInfo"]["tokenValue"]
    validated = await client.get("/token/validate", headers=bearer(token))
    assert validated.json()["userInfo"]["userId"] == seed.ADMIN_USER


async def test_certificate_login_falls_back_to_the_common_name_for_the_user(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    pem = certificate(key, email=None, cn=seed.VIEWER_USER)

    response = await cert_login(client, certificate_request(key, pem))

    assert response.status_code == 201
    token = response.json()["tokenInfo"]["tokenValue"]
    validated = await client.get("/token/validate", headers=bearer(token))
    assert validated.json()["userInfo"]["userId"] == seed.VIEWER_USER


async def test_certificate_login_with_a_signature_over_other_data_is_401(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    request = certificate_request(key, certificate(key), signed=os.urandom(150))

    response = await cert_login(client, request)

    assert response.status_code == 401
    assert response.json()["status"] == "FAILURE_BAD_CREDENTIAL"


async def test_certificate_login_with_a_signature_by_another_key_is_401(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    response = await cert_login(client, certificate_request(other, certificate(key)))

    assert response.status_code == 401


async def test_certificate_login_needs_at_least_100_bytes_of_data(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    pem = certificate(key)
    assert (await cert_login(client, certificate_request(key, pem, data=os.urandom(100)))).status_code == 201

    response = await cert_login(client, certificate_request(key, pem, data=os.urandom(99)))

    assert response.status_code == 401


async def test_certificate_login_for_an_unknown_user_is_401(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey
) -> None:
    pem = certificate(key, email="stranger@example.com")

    response = await cert_login(client, certificate_request(key, pem))

    assert response.status_code == 401
    assert "stranger@example.com" in response.json()["statusMessage"]


async def test_certificate_login_with_a_certificate_expired_in_sandbox_time_is_401(
    client: httpx2.AsyncClient, sandbox: Sandbox, key: rsa.RSAPrivateKey
) -> None:
    pem = certificate(key, days=2)
    sandbox.advance(2 * 86400)

    response = await cert_login(client, certificate_request(key, pem))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "authorization",
    ["CACertificate %%%", f"CACertificate {base64.b64encode(b'not a certificate').decode()}"],
)
async def test_certificate_login_with_a_malformed_certificate_is_400_bad_header(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey, authorization: str
) -> None:
    request = certificate_request(key, certificate(key))
    request["headers"] = {"Authorization": authorization}

    response = await cert_login(client, request)

    assert response.status_code == 400
    assert response.json()["status"] == "FAILURE_BAD_HEADER"


@pytest.mark.parametrize("body", [b"not json", b"[]", json.dumps({"encodedData": "AAAA"}).encode()])
async def test_certificate_login_with_a_malformed_body_is_400_bad_header(
    client: httpx2.AsyncClient, key: rsa.RSAPrivateKey, body: bytes
) -> None:
    headers = {
        "Authorization": f"CACertificate {base64.b64encode(certificate(key)).decode()}",
        "Content-Type": "application/json",
    }

    response = await client.post("/token/authenticate", headers=headers, content=body)

    assert response.status_code == 400
    assert response.json()["status"] == "FAILURE_BAD_HEADER"
