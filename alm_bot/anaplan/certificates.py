"""Reading an Anaplan CA certificate and its key in any common container, and signing login payloads.

- Certificates: PEM (one certificate or a chain), DER, or PKCS#12 (``.p12``/``.pfx``, which may also
  hold the key). From a chain only the **leaf** is sent — the certificate whose public key belongs to
  the private key (Anaplan registers that one); ``chain_length`` says how many the file held.
- Keys: PEM or DER (PKCS#1 or PKCS#8, encrypted or not), or the key inside the PKCS#12 file. RSA only.
- Payloads (reference §2.1): ``v2`` (the default) is an 8-byte **big-endian Unix-seconds** timestamp
  followed by random bytes, 150 bytes in all (Anaplan asks for at least 100), signed as a whole with
  SHA512withRSA (PKCS#1 v1.5), sent with ``"encodedDataFormat": "v2"``; ``v1`` is 150 random bytes with
  no format field. Each login builds a fresh payload: Anaplan refuses one used twice.

The byte order of the v2 timestamp is inferred from Anaplan's own example (``AAAAAGhaH7pe…`` decodes
to ``00 00 00 00 68 5A 1F BA``, 2025-06-24 UTC); no live tenant confirmed it here.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Literal

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from alm_bot.errors import InvalidArgument

__all__ = ["PAYLOAD_BYTES", "CertFormat", "KeyMaterial", "load_key_material", "signed_payload"]

CertFormat = Literal["v1", "v2"]
PAYLOAD_BYTES: Final = 150
_TIMESTAMP_BYTES: Final = 8


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """The leaf certificate to send and the RSA key that signs."""

    leaf: x509.Certificate
    key: rsa.RSAPrivateKey
    chain_length: int

    @property
    def header(self) -> str:
        """``Authorization: CACertificate <base64 of the leaf's PEM>``."""
        pem = self.leaf.public_bytes(serialization.Encoding.PEM)
        return f"CACertificate {base64.b64encode(pem).decode('ascii')}"


def _pkcs12(data: bytes, password: bytes | None) -> pkcs12.PKCS12KeyAndCertificates | None:
    try:
        return pkcs12.load_pkcs12(data, password)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _certificates(data: bytes, password: bytes | None) -> tuple[list[x509.Certificate], Any]:
    """Every certificate in the file, and the key if it was a PKCS#12 holding one."""
    if b"-----BEGIN" in data:
        try:
            return x509.load_pem_x509_certificates(data), None
        except ValueError:
            pass
    try:
        return [x509.load_der_x509_certificate(data)], None
    except ValueError:
        pass
    bundle = _pkcs12(data, password)
    if bundle is not None and bundle.cert is not None:
        extra = [c.certificate for c in bundle.additional_certs]
        return [bundle.cert.certificate, *extra], bundle.key
    raise InvalidArgument(
        "certificate",
        "certificate could not be read: it is neither a PEM or DER X.509 certificate nor a PKCS#12 file "
        "(or the PKCS#12 password is wrong).",
    )


def _private_key(data: bytes, password: bytes | None) -> Any:
    loaders = (serialization.load_pem_private_key,) if b"-----BEGIN" in data else ()
    for load in (*loaders, serialization.load_der_private_key):
        try:
            return load(data, password=password)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
    bundle = _pkcs12(data, password)
    if bundle is not None and bundle.key is not None:
        return bundle.key
    # cryptography's messages can quote key material; ours never does.
    raise InvalidArgument(
        "private_key",
        "private_key could not be loaded: it is not a PEM, DER or PKCS#12 private key, or the private key "
        "password is wrong or missing.",
    )


def _same_key(cert: x509.Certificate, key: rsa.RSAPrivateKey) -> bool:
    public = cert.public_key()
    return (
        isinstance(public, rsa.RSAPublicKey) and public.public_numbers() == key.public_key().public_numbers()
    )


def load_key_material(certificate: bytes, private_key: bytes | None, password: str | None) -> KeyMaterial:
    """The leaf and its key from the given files (``private_key`` None: the key is in the PKCS#12)."""
    secret = password.encode() if password is not None else None
    certs, bundled_key = _certificates(certificate, secret)
    key = _private_key(private_key, secret) if private_key is not None else bundled_key
    if key is None:
        raise InvalidArgument(
            "private_key",
            "private_key is missing: the certificate file holds no key, so name the key file too.",
        )
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InvalidArgument("private_key", "private_key is not an RSA key: Anaplan certificates use RSA.")
    leaf = next((c for c in certs if _same_key(c, key)), None)
    if leaf is None:
        raise InvalidArgument(
            "certificate",
            f"certificate does not belong to the private key: none of its {len(certs)} certificate(s) holds "
            "the key's public half.",
        )
    return KeyMaterial(leaf, key, len(certs))


def signed_payload(
    key: rsa.RSAPrivateKey, cert_format: CertFormat, now: Callable[[], float]
) -> dict[str, str]:
    """A fresh ``/token/authenticate`` body for a certificate login."""
    if cert_format == "v2":
        stamp = int(now()).to_bytes(_TIMESTAMP_BYTES, "big")
        data = stamp + os.urandom(PAYLOAD_BYTES - _TIMESTAMP_BYTES)
    else:
        data = os.urandom(PAYLOAD_BYTES)
    signature = key.sign(data, padding.PKCS1v15(), hashes.SHA512())
    body = {
        "encodedData": base64.b64encode(data).decode("ascii"),
        "encodedSignedData": base64.b64encode(signature).decode("ascii"),
    }
    if cert_format == "v2":
        body["encodedDataFormat"] = "v2"
    return body
