"""Certificate login (``Authorization: CACertificate …``, reference §2.1), verified for real.

The header carries the base64 of the PEM certificate; the JSON body carries ``encodedData``
(base64 of at least 100 bytes) and ``encodedSignedData`` (base64 of their RSA PKCS#1 v1.5 SHA-512
signature). The signature is checked with the certificate's public key, the certificate must be
valid at sandbox time, and its email — subject ``emailAddress``, else the common name — must be a
sandbox user. Any CA is trusted: the sandbox checks possession of the key, not the chain.

Body formats: with ``"encodedDataFormat": "v2"`` the data starts with an 8-byte big-endian Unix-seconds
timestamp that must be within ±5 minutes of sandbox time, and a payload is accepted once only (a
replay is 401). Without the field (or ``"v1"``) the data is plain random bytes — refused under
``strict_auth``, as Anaplan will once v1 is phased out. Another format value is 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.x509.oid import NameOID

from alm_bot.sandbox.errors import AuthServiceError

__all__ = ["MIN_DATA_BYTES", "SKEW_SECONDS", "ReplayGuard", "certificate_login_email"]

MIN_DATA_BYTES: Final = 100
SKEW_SECONDS: Final = 300.0
_TIMESTAMP_BYTES: Final = 8
_BAD_BODY: Final = "The body must be JSON with base64 'encodedData' and 'encodedSignedData'."


def _b64(text: object) -> bytes | None:
    if not isinstance(text, str):
        return None
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _certificate(encoded: str) -> x509.Certificate:
    raw = _b64(encoded)
    if raw is None:
        raise AuthServiceError.bad_header("The CACertificate header must carry a base64-encoded certificate.")
    try:
        return x509.load_pem_x509_certificate(raw)
    except ValueError:
        pass
    try:
        return x509.load_der_x509_certificate(raw)
    except ValueError:
        raise AuthServiceError.bad_header(
            "The CACertificate header does not hold a valid certificate."
        ) from None


class ReplayGuard:
    """The v2 payloads already used, kept while their timestamp could still pass the skew check."""

    def __init__(self) -> None:
        self._used: dict[bytes, float] = {}

    def first_use(self, data: bytes, stamp: float, now: float) -> bool:
        for old in [d for d, t in self._used.items() if t < now - 2 * SKEW_SECONDS]:
            del self._used[old]
        if data in self._used:
            return False
        self._used[data] = stamp
        return True


def _signed_data(raw_body: bytes) -> tuple[bytes, bytes, str]:
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise AuthServiceError.bad_header(_BAD_BODY) from None
    if not isinstance(body, dict):
        raise AuthServiceError.bad_header(_BAD_BODY)
    data, signature = _b64(body.get("encodedData")), _b64(body.get("encodedSignedData"))
    if data is None or signature is None:
        raise AuthServiceError.bad_header(_BAD_BODY)
    data_format = body.get("encodedDataFormat", "v1")
    if data_format not in ("v1", "v2"):
        raise AuthServiceError.bad_header("encodedDataFormat must be 'v2' (or left out for the v1 format).")
    return data, signature, str(data_format)


def _check_format(data: bytes, data_format: str, now: float, *, strict: bool, replays: ReplayGuard) -> None:
    if data_format == "v1":
        if strict:
            raise AuthServiceError.bad_credential(
                "The v1 certificate payload is no longer accepted: send encodedDataFormat 'v2'."
            )
        return
    stamp = float(int.from_bytes(data[:_TIMESTAMP_BYTES], "big"))
    if abs(stamp - now) > SKEW_SECONDS:
        raise AuthServiceError.bad_credential(
            "The encodedData timestamp is more than 5 minutes away from the server's time."
        )
    if not replays.first_use(data, stamp, now):
        raise AuthServiceError.bad_credential(
            "This encodedData was already used: sign a fresh one per login."
        )


def _email(cert: x509.Certificate) -> str | None:
    for oid in (NameOID.EMAIL_ADDRESS, NameOID.COMMON_NAME):
        attributes = cert.subject.get_attributes_for_oid(oid)
        if attributes:
            value = attributes[0].value
            return value if isinstance(value, str) else value.decode()
    return None


def certificate_login_email(
    encoded_certificate: str, raw_body: bytes, now: float, *, strict: bool, replays: ReplayGuard
) -> str:
    """The email of the certificate's owner, once the signature proves possession of its key."""
    cert = _certificate(encoded_certificate)
    data, signature, data_format = _signed_data(raw_body)
    moment = datetime.fromtimestamp(now, tz=UTC)
    if not cert.not_valid_before_utc <= moment <= cert.not_valid_after_utc:
        raise AuthServiceError.bad_credential("The certificate is expired or not yet valid.")
    if len(data) < MIN_DATA_BYTES:
        raise AuthServiceError.bad_credential(f"encodedData must hold at least {MIN_DATA_BYTES} bytes.")
    key = cert.public_key()
    if not isinstance(key, RSAPublicKey):
        raise AuthServiceError.bad_credential("The certificate must hold an RSA public key.")
    try:
        key.verify(signature, data, PKCS1v15(), hashes.SHA512())
    except InvalidSignature:
        raise AuthServiceError.bad_credential("The signature does not match the certificate.") from None
    _check_format(data, data_format, now, strict=strict, replays=replays)
    email = _email(cert)
    if email is None:
        raise AuthServiceError.bad_credential("The certificate names no user.")
    return email
