"""The Anaplan login must be one complete method: basic, certificate, or OAuth.

- basic: ``ANAPLAN_USERNAME`` with ``ANAPLAN_PASSWORD``;
- certificate: ``ANAPLAN_CERTIFICATE`` with ``ANAPLAN_PRIVATE_KEY`` — or a PKCS#12 file
  (``.p12``/``.pfx``) alone, which holds the key; ``ANAPLAN_PRIVATE_KEY_PASSWORD`` unlocks either;
- OAuth: ``ANAPLAN_OAUTH_CLIENT_ID`` (``ANAPLAN_OAUTH_CLIENT_SECRET`` if the client has one), with
  ``ALM_BOT_SECRET_KEY`` to encrypt the stored refresh token.

Files named must exist (the key files and ``ANAPLAN_CA_BUNDLE``). Each problem reads
``source: VARIABLE: what is wrong``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from alm_bot.config.values import is_pkcs12

__all__ = ["credential_problems"]

_ENV_LABEL: Final = "environment"
_METHODS: Final = {
    "ANAPLAN_USERNAME": "basic",
    "ANAPLAN_CERTIFICATE": "certificate",
    "ANAPLAN_OAUTH_CLIENT_ID": "OAuth",
}
_FILES: Final = ("ANAPLAN_CERTIFICATE", "ANAPLAN_PRIVATE_KEY", "ANAPLAN_CA_BUNDLE")


def credential_problems(variables: Mapping[str, str], origins: Mapping[str, str]) -> list[str]:
    problems: list[str] = []

    def where(name: str) -> str:
        return origins.get(name, _ENV_LABEL)

    def needs(name: str, because: str) -> None:
        if because in variables and name not in variables:
            problems.append(f"{where(because)}: {name}: is missing: {because} is set")

    pkcs12 = "ANAPLAN_CERTIFICATE" in variables and is_pkcs12(Path(variables["ANAPLAN_CERTIFICATE"]))
    needs("ANAPLAN_PASSWORD", "ANAPLAN_USERNAME")
    needs("ANAPLAN_USERNAME", "ANAPLAN_PASSWORD")
    needs("ANAPLAN_CERTIFICATE", "ANAPLAN_PRIVATE_KEY")
    if not pkcs12:  # a PKCS#12 file holds the key, and the password unlocks the file itself
        needs("ANAPLAN_PRIVATE_KEY", "ANAPLAN_CERTIFICATE")
        needs("ANAPLAN_PRIVATE_KEY", "ANAPLAN_PRIVATE_KEY_PASSWORD")
    needs("ANAPLAN_OAUTH_CLIENT_ID", "ANAPLAN_OAUTH_CLIENT_SECRET")
    needs("ALM_BOT_SECRET_KEY", "ANAPLAN_OAUTH_CLIENT_ID")
    chosen = [name for name in _METHODS if name in variables]
    if len(chosen) > 1:
        first, second = chosen[0], chosen[1]
        problems.append(
            f"{where(second)}: {second}: both {_METHODS[first]} ({first}) and {_METHODS[second]} credentials "
            "are set: keep one method"
        )
    for name in _FILES:
        if name in variables and not Path(variables[name]).is_file():
            problems.append(f"{where(name)}: {name}: {variables[name]!r} is not an existing file")
    return problems
