"""Certificate login (``Authorization: CACertificate …``, reference §2.1), verified for real.

The header carries the base64 of the PEM certificate; the JSON body carries ``encodedData``
(base64 of at least 100 random bytes) and ``encodedSignedData`` (base64 of their RSA PKCS#1 v1.5
SHA-512 signature). The signature is checked with the certificate's public key, the certificate
must be valid at sandbox time, and its email — subject ``emailAddress``, else the common name —
must be a sandbox user. Any CA is trusted: the sandbox checks possession of the key, not the chain.
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

__all__ = ["MIN_DATA_BYTES", "certificate_login_email"]

MIN_DATA_BYTES: Final = 100
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


def _signed_data(raw_body: bytes) -> tuple[bytes, bytes]:
    try:
        body = json.loads(raw_body)
    except ValueError:
        raise AuthServiceError.bad_header(_BAD_BODY) from None
    if not isinstance(body, dict):
        raise AuthServiceError.bad_header(_BAD_BODY)
    data, signature = _b64(body.get("encodedData")), _b64(body.get("encodedSignedData"))
    if data is None or signature is None:
        raise AuthServiceError.bad_header(_BAD_BODY)
    return data, signature


def _email(cert: x509.Certificate) -> str | None:
    for oid in (NameOID.EMAIL_ADDRESS, NameOID.COMMON_NAME):
        attributes = cert.subject.get_attributes_for_oid(oid)
        if attributes:
            value = attributes[0].value
            return value if isinstance(value, str) else value.decode()
    return None


def certificate_login_email(encoded_certificate: str, raw_body: bytes, now: float) -> str:
    """The email of the certificate's owner, once the signature proves possession of its key."""
    cert = _certificate(encoded_certificate)
    data, signature = _signed_data(raw_body)
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
    email = _email(cert)
    if email is None:
        raise AuthServiceError.bad_credential("The certificate names no user.")
    return email
