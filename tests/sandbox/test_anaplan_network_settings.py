"""``ANAPLAN_CA_BUNDLE`` and ``ANAPLAN_PROXY`` reach the Anaplan client, over real sockets."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anyio
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from served import serving

from alm_bot.anaplan import AnaplanClient, BasicAuth, RetryPolicy
from alm_bot.errors import AnaplanUnavailable
from alm_bot.sandbox import Sandbox, seed

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def tls_files(tmp_path: Path) -> tuple[Path, tuple[str, str]]:
    """A private CA (its PEM file) and a server certificate for 127.0.0.1 that it signed."""
    now = datetime.now(UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("alm-bot test CA"))
        .issuer_name(_name("alm-bot test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    server = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "server.pem", tmp_path / "server.key"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_file, (str(cert_file), str(key_file))


def client(base: str, **network: object) -> AnaplanClient:
    return AnaplanClient(
        auth=BasicAuth(seed.ADMIN_USER, seed.PASSWORD),
        api_url=f"{base}/2/0",
        auth_url=base,
        retry=RetryPolicy(attempts=1),
        **network,  # type: ignore[arg-type]
    )


async def test_the_ca_bundle_makes_a_private_ca_trusted_and_without_it_the_login_fails(
    tmp_path: Path,
) -> None:
    ca_file, tls = tls_files(tmp_path)
    async with serving(Sandbox(rate_limit_per_second=None), tls=tls) as base:
        async with client(base, ca_bundle=ca_file) as trusted:
            models = await trusted.list_models()
        async with client(base) as untrusted:
            with pytest.raises(AnaplanUnavailable, match="Could not reach Anaplan"):
                await untrusted.login()

    assert base.startswith("https://")
    assert len(models) == 6


@asynccontextmanager
async def recording_proxy() -> AsyncIterator[tuple[str, list[bytes]]]:
    """A loopback 'proxy' that records each request line it receives and answers 502."""
    lines: list[bytes] = []

    async def handle(stream: anyio.abc.SocketStream) -> None:
        async with stream:
            received = await stream.receive()
            lines.append(received.split(b"\r\n", 1)[0])
            await stream.send(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

    listener = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
    port = listener.extra(anyio.abc.SocketAttribute.local_port)  # noqa: S610 - anyio, not Django
    async with listener, anyio.create_task_group() as tasks:
        tasks.start_soon(listener.serve, handle)
        yield f"http://127.0.0.1:{port}", lines
        tasks.cancel_scope.cancel()


async def test_requests_to_anaplan_go_through_the_configured_proxy() -> None:
    async with recording_proxy() as (proxy, lines), client("http://anaplan.invalid", proxy=proxy) as proxied:
        with pytest.raises(AnaplanUnavailable):
            await proxied.login()

    assert lines == [b"POST http://anaplan.invalid/token/authenticate HTTP/1.1"]
