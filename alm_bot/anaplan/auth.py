"""The credentials alm-bot logs in to Anaplan with, and the login request each one makes.

- ``BasicAuth``: user name and password (``Authorization: Basic …``); only Exception Users on SSO tenants.
- ``CertificateAuth``: a CA certificate and its RSA private key. The header carries the base64 of the
  PEM certificate file; the body carries 150 random bytes and their RSA PKCS#1 v1.5 SHA-512 signature
  (reference §2.1). The key is loaded when the object is built, so a wrong password or a non-RSA key
  fails at startup, not at the first Slack command.
- ``TokenAuth``: a token obtained elsewhere. It cannot log in again; it can only be refreshed.

Secrets are kept in ``pydantic.SecretStr`` (or inside the loaded key object) and every ``repr`` masks
them, so credentials can be logged or shown in a traceback without leaking.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from pydantic import SecretStr

from alm_bot.errors import InvalidArgument

__all__ = ["BasicAuth", "CertificateAuth", "Credentials", "LoginRequest", "TokenAuth"]

_RANDOM_BYTES: Final = 150  # Anaplan asks for at least 100; the SDK and Anaplan's examples use 150
_MASK: Final = "**********"


@dataclass(frozen=True, slots=True)
class LoginRequest:
    """Headers and optional JSON body of one ``POST /token/authenticate``."""

    headers: dict[str, str]
    json: dict[str, Any] | None = field(default=None)


class BasicAuth:
    """Log in with an Anaplan user name (e-mail) and password."""

    __slots__ = ("_password", "username")

    def __init__(self, username: str, password: str | SecretStr) -> None:
        if not username:
            raise InvalidArgument(
                "username", "username is empty: basic authentication needs an Anaplan user."
            )
        self.username = username
        self._password = password if isinstance(password, SecretStr) else SecretStr(password)

    @property
    def password(self) -> SecretStr:
        return self._password

    def login_request(self) -> LoginRequest:
        pair = f"{self.username}:{self._password.get_secret_value()}".encode()
        return LoginRequest(headers={"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"})

    def describe(self) -> str:
        """Who is logging in, for error messages."""
        return f"user {self.username!r}"

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r}, password={_MASK!r})"


def _read(value: bytes | Path | str, argument: str) -> bytes:
    if isinstance(value, bytes):
        return value
    try:
        return Path(value).read_bytes()
    except OSError as exc:
        raise InvalidArgument(
            argument, f"{argument} file {str(value)!r} cannot be read: {exc.strerror}."
        ) from None


def _load_certificate(pem: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(pem)
    except ValueError:
        raise InvalidArgument(
            "certificate", "certificate is not a PEM X.509 certificate (it should start with -----BEGIN)."
        ) from None


def _load_rsa_key(pem: bytes, password: SecretStr | None) -> rsa.RSAPrivateKey:
    secret = password.get_secret_value().encode() if password is not None else None
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        # cryptography's messages can quote key material; ours never does.
        raise InvalidArgument(
            "private_key",
            "private_key could not be loaded: it is not a PEM private key, or the private key password "
            "is wrong or missing.",
        ) from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidArgument("private_key", "private_key is not an RSA key: Anaplan certificates use RSA.")
    return key


class CertificateAuth:
    """Log in with an Anaplan CA certificate and its RSA private key (PEM bytes or file paths)."""

    __slots__ = ("_certificate_header", "_key", "subject")

    def __init__(
        self,
        certificate: bytes | Path,
        private_key: bytes | Path,
        private_key_password: str | SecretStr | None = None,
    ) -> None:
        certificate_pem = _read(certificate, "certificate")
        self.subject = _load_certificate(certificate_pem).subject.rfc4514_string()
        password = (
            SecretStr(private_key_password) if isinstance(private_key_password, str) else private_key_password
        )
        self._key = _load_rsa_key(_read(private_key, "private_key"), password)
        self._certificate_header = f"CACertificate {base64.b64encode(certificate_pem).decode('ascii')}"

    def login_request(self) -> LoginRequest:
        data = os.urandom(_RANDOM_BYTES)
        signature = self._key.sign(data, padding.PKCS1v15(), hashes.SHA512())
        return LoginRequest(
            headers={"Authorization": self._certificate_header},
            json={
                "encodedData": base64.b64encode(data).decode("ascii"),
                "encodedSignedData": base64.b64encode(signature).decode("ascii"),
            },
        )

    def describe(self) -> str:
        return f"certificate {self.subject!r}"

    def __repr__(self) -> str:
        return f"CertificateAuth(certificate={self.subject!r}, private_key={_MASK!r})"


class TokenAuth:
    """Use an Anaplan token obtained elsewhere; alm-bot can refresh it but cannot log in again."""

    __slots__ = ("_token",)

    def __init__(self, token: str | SecretStr) -> None:
        self._token = token if isinstance(token, SecretStr) else SecretStr(token)
        if not self._token.get_secret_value():
            raise InvalidArgument("token", "token is empty: token authentication needs an Anaplan token.")

    @property
    def token(self) -> SecretStr:
        return self._token

    def describe(self) -> str:
        return "the configured token"

    def __repr__(self) -> str:
        return f"TokenAuth(token={_MASK!r})"


Credentials: TypeAlias = BasicAuth | CertificateAuth | TokenAuth
