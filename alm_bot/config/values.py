"""Value parsers and annotated types of the configuration: durations, URLs, ids, MCP tokens.

Each parser raises ``ValueError`` with the "what is wrong" part of a problem; ``loading`` adds
where it came from.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Final
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr

from alm_bot.actor import Actor, parse_actor

_DURATION_PART: Final = re.compile(r"(\d+)([smhd])")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MIN_MCP_TOKEN_LENGTH: Final = 32
_MODEL_ID: Final = re.compile(r"[0-9A-Fa-f]{32}")
_ALIAS: Final = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
_ASYNC_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgresql": "postgresql+asyncpg",
    "postgres": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def parse_duration(value: object) -> timedelta:
    """``"90m"``, ``"24h"``, ``"2d"``, ``"3600s"``, ``"1h30m"`` or a number of seconds → timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str) and _is_duration(value.strip()):
        seconds = sum(int(n) * _UNITS[u] for n, u in _DURATION_PART.findall(value.strip()))
    else:
        raise ValueError(f"{value!r} is not a duration: write it like 90m, 24h, 2d or 3600s")
    if seconds <= 0:
        raise ValueError(f"{value!r} must be longer than zero")
    return timedelta(seconds=seconds)


def _is_duration(text: str) -> bool:
    return bool(text) and _DURATION_PART.sub("", text) == ""


def async_database_url(url: str) -> str:
    """Normalise a database URL to its async driver; ``ValueError`` (without the password) if unsupported.

    Parsed by hand rather than with SQLAlchemy's ``make_url``: importing SQLAlchemy costs a few
    hundred milliseconds, and ``alm-bot mcp`` must answer its first request quickly.
    """
    scheme, separator, rest = url.strip().partition("://")
    if not separator or not scheme:
        raise ValueError("is not a database URL: use sqlite:///path or postgresql://user@host/db")
    driver = _ASYNC_DRIVERS.get(scheme.lower())
    if driver is None:
        raise ValueError(
            f"database driver {scheme!r} is not supported: use sqlite:///path or "
            "postgresql://user@host/db (the async drivers aiosqlite/asyncpg are used either way)"
        )
    if driver.startswith("sqlite") and not rest.partition("/")[2].partition("?")[0]:
        raise ValueError("names no SQLite file: use sqlite:///path/to/alm-bot.db")
    return f"{driver}://{rest}"


def default_database_url() -> SecretStr:
    return SecretStr(f"sqlite+aiosqlite:///{Path.cwd() / 'alm-bot.db'}")


def database_url_value(value: object) -> object:
    if isinstance(value, str):
        return SecretStr(async_database_url(value))
    return value


def is_pkcs12(path: Path) -> bool:
    """A ``.p12``/``.pfx`` file holds the certificate and its key together."""
    return path.suffix.lower() in (".p12", ".pfx")


def fernet_key(value: SecretStr) -> SecretStr:
    """32 url-safe base64 bytes, as ``cryptography.fernet.Fernet.generate_key()`` makes them."""
    try:
        raw = base64.urlsafe_b64decode(value.get_secret_value().encode())
    except (ValueError, TypeError):
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            "is not a Fernet key (32 url-safe base64 bytes); make one with: python -c "
            '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
        )
    return value


def http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an http(s) URL")
    return value


def optional_http_url(value: str | None) -> str | None:
    return None if value is None else http_url(value)


def mcp_tokens_value(value: object) -> object:
    """``tok1=U1:Ada,tok2=bot`` → {SecretStr(tok1): Actor, …}. Never echoes a token in an error."""
    if not isinstance(value, str):
        return value
    tokens: dict[SecretStr, Actor] = {}
    wrong: list[str] = []
    entries = [e.strip() for e in value.split(",") if e.strip()]
    for number, entry in enumerate(entries, start=1):
        token, equals, spec = (part.strip() for part in entry.partition("="))
        if not equals or not token:
            wrong.append(f"entry {number} is not token=actor")
        elif len(token) < MIN_MCP_TOKEN_LENGTH:
            wrong.append(
                f"entry {number}: the token is shorter than {MIN_MCP_TOKEN_LENGTH} characters "
                "(make one with: openssl rand -hex 24)"
            )
        elif SecretStr(token) in tokens:
            wrong.append(f"entry {number} repeats an earlier token")
        else:
            try:
                tokens[SecretStr(token)] = parse_actor(spec, "mcp")
            except ValueError as exc:
                wrong.append(f"entry {number}: {exc}")
    if wrong:
        raise ValueError("; ".join(wrong) + " (format: token1=U123:Ada Lovelace,token2=bot-ci)")
    return tokens


def mcp_actor_value(value: object) -> object:
    return parse_actor(value, "mcp") if isinstance(value, str) else value


def _slack_id(kind: str, pattern: str, example: str) -> Callable[[str], str]:
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"{value!r} is not a Slack {kind} id (like {example})")
        return value

    return check


def model_id(value: str) -> str:
    if not _MODEL_ID.fullmatch(value):
        raise ValueError(f"{value!r} is not an Anaplan model id (32 hexadecimal characters)")
    return value


UserId = Annotated[str, AfterValidator(_slack_id("user", r"[UW][A-Z0-9]+", "U0123ABCD"))]
GroupId = Annotated[str, AfterValidator(_slack_id("user-group", r"S[A-Z0-9]+", "S0123ABCD"))]
ChannelId = Annotated[str, AfterValidator(_slack_id("channel", r"[CG][A-Z0-9]+", "C0123ABCD"))]
# Who a policy names: a person or a user group, in one list.
ApproverId = Annotated[
    str, AfterValidator(_slack_id("user or user-group", r"[UWS][A-Z0-9]+", "U0123ABCD or S0123ABCD"))
]
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
ModelAlias = Annotated[str, Field(pattern=_ALIAS)]
Positive = Annotated[float, Field(gt=0)]
