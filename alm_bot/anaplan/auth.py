"""The credentials alm-bot logs in to Anaplan with, and the login request each one makes.

- ``BasicAuth``: user name and password (``Authorization: Basic …``); only Exception Users on SSO tenants.
- ``CertificateAuth``: a CA certificate and its RSA private key, as PEM, DER or PKCS#12 (see
  ``certificates``). The header carries the base64 of the leaf certificate's PEM; the body is a fresh
  signed payload per login, ``v2`` (timestamped) by default or ``v1`` (reference §2.1). The key is
  loaded when the object is built, so a wrong password or a non-RSA key fails at startup, not at the
  first Slack command; a chain file is logged once there, since only its leaf is sent.
- ``TokenAuth``: a token obtained elsewhere. It cannot log in again; it can only be refreshed.
- ``OAuthAuth`` (in ``oauth``): an OAuth client and the rotating refresh token in a ``GrantStore``.

Secrets are kept in ``pydantic.SecretStr`` (or inside the loaded key object) and every ``repr`` masks
them, so credentials can be logged or shown in a traceback without leaking.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TypeAlias

from pydantic import SecretStr

from alm_bot.anaplan.certificates import CertFormat, load_key_material, signed_payload
from alm_bot.anaplan.oauth import OAuthAuth
from alm_bot.errors import InvalidArgument

__all__ = ["BasicAuth", "CertificateAuth", "Credentials", "LoginRequest", "TokenAuth"]

_log = logging.getLogger("alm_bot.anaplan")
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


class CertificateAuth:
    """Log in with an Anaplan CA certificate and its RSA private key (bytes or file paths).

    ``private_key`` may be None when ``certificate`` is a PKCS#12 file holding the key;
    ``private_key_password`` unlocks an encrypted key or PKCS#12 file. ``cert_format`` is the login
    body (``v2`` unless a tenant still needs ``v1``); ``now`` is the wall clock its timestamp reads.
    """

    __slots__ = ("_certificate_header", "_key", "_now", "cert_format", "subject")

    def __init__(
        self,
        certificate: bytes | Path,
        private_key: bytes | Path | None = None,
        private_key_password: str | SecretStr | None = None,
        *,
        cert_format: CertFormat = "v2",
        now: Callable[[], float] = time.time,
    ) -> None:
        password = (
            private_key_password.get_secret_value()
            if isinstance(private_key_password, SecretStr)
            else private_key_password
        )
        key_file = _read(private_key, "private_key") if private_key is not None else None
        material = load_key_material(_read(certificate, "certificate"), key_file, password)
        self.subject = material.leaf.subject.rfc4514_string()
        if material.chain_length > 1:
            _log.info(
                "The certificate file holds a chain of %d certificates; alm-bot sends only the leaf, %s",
                material.chain_length,
                self.subject,
            )
        self._key = material.key
        self._certificate_header = material.header
        self.cert_format: CertFormat = cert_format
        self._now = now

    def login_request(self) -> LoginRequest:
        """A fresh signed payload: never the same twice (Anaplan refuses a replayed v2 payload)."""
        return LoginRequest(
            headers={"Authorization": self._certificate_header},
            json=signed_payload(self._key, self.cert_format, self._now),
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


Credentials: TypeAlias = "BasicAuth | CertificateAuth | TokenAuth | OAuthAuth"
