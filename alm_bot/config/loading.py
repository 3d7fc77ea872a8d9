"""``load_settings``: read the environment, ``.env`` and TOML once, and report every problem at once."""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from pydantic_settings import DotEnvSettingsSource

from alm_bot.config.credentials import credential_problems
from alm_bot.config.settings import ENV_FIELDS, Settings
from alm_bot.errors import ConfigError

DEFAULTS_LABEL: Final = "built-in defaults"
_ENV_LABEL: Final = "environment"


class _Unset:
    """Marks "not passed" where None means "no file"."""


_UNSET: Final = _Unset()


def load_settings(
    *,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    defaults: Mapping[str, Any] | None = None,
    env_file: Path | _Unset | None = _UNSET,
) -> Settings:
    """Read and check the whole configuration; raise one ``ConfigError`` listing every problem.

    ``env`` replaces ``os.environ`` (tests, embedding). ``env_file`` is the ``.env`` to read under
    the environment: by default ``./.env`` when reading ``os.environ`` and none when ``env`` is
    given. ``config_file`` replaces ``ALM_BOT_CONFIG``. ``defaults`` is a TOML-shaped layer under
    the file: the file adds to it and overrides it key by key.
    """
    if isinstance(env_file, _Unset):
        env_file = Path(".env") if env is None else None
    variables, origins = _gather_variables(os.environ if env is None else env, env_file)
    problems: list[str] = []
    path = config_file or (Path(variables["ALM_BOT_CONFIG"]) if "ALM_BOT_CONFIG" in variables else None)
    file_data = _read_toml(path, problems) if path is not None else {}
    layers = _Layers(dict(defaults or {}), file_data, str(path) if path else DEFAULTS_LABEL)
    values: dict[str, Any] = {name: variables[name] for name in ENV_FIELDS if name in variables}
    if path is not None:
        values["ALM_BOT_CONFIG"] = str(path)
    values.update(_deep_merge(layers.defaults, layers.file))
    problems += credential_problems(variables, origins)
    try:
        settings = Settings(**values)
    except ValidationError as error:
        problems += [_describe(detail, origins, layers) for detail in error.errors()]
    if problems:
        raise ConfigError(problems)
    return settings


def _gather_variables(
    environ: Mapping[str, str], env_file: Path | None
) -> tuple[dict[str, str], dict[str, str]]:
    """Known variables from the environment over the ``.env`` file; empty values count as unset."""
    variables: dict[str, str] = {}
    origins: dict[str, str] = {}
    if env_file is not None:
        dotenv = DotEnvSettingsSource(Settings, env_file=env_file, case_sensitive=True).env_vars
        for name, value in dotenv.items():
            if value:
                variables[name], origins[name] = value, str(env_file)
    for name in ENV_FIELDS:
        if environ.get(name):
            variables[name], origins[name] = environ[name], _ENV_LABEL
    return variables, origins


def _read_toml(path: Path, problems: list[str]) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        problems.append(f"{path}: cannot be read: {exc.strerror or exc}")
    except tomllib.TOMLDecodeError as exc:
        problems.append(f"{path}: is not valid TOML: {exc}")
    except UnicodeDecodeError:
        problems.append(f"{path}: is not a TOML text file (it is not UTF-8 text; binary?)")
    return {}


def _deep_merge(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in top.items():
        below = merged.get(key)
        if isinstance(below, Mapping) and isinstance(value, Mapping):
            merged[key] = _deep_merge(below, value)
        else:
            merged[key] = value
    return merged


class _Layers:
    """The TOML-shaped layers, to tell which one a problem key came from."""

    def __init__(self, defaults: dict[str, Any], file: dict[str, Any], file_label: str) -> None:
        self.defaults, self.file, self.file_label = defaults, file, file_label

    def origin(self, loc: tuple[str | int, ...]) -> str:
        in_file, in_defaults = _depth(self.file, loc), _depth(self.defaults, loc)
        return DEFAULTS_LABEL if in_defaults > in_file else self.file_label


def _depth(data: Any, loc: tuple[str | int, ...]) -> int:
    """How many leading keys of ``loc`` exist in ``data``."""
    depth = 0
    for key in loc:
        if not isinstance(data, Mapping) or key not in data:
            break
        data, depth = data[key], depth + 1
    return depth


def _describe(detail: ErrorDetails, origins: Mapping[str, str], layers: _Layers) -> str:
    loc = detail["loc"]
    head = str(loc[0]) if loc else ""
    source = origins.get(head, _ENV_LABEL) if head in ENV_FIELDS else layers.origin(loc)
    return f"{source}: {_key_path(loc)}: {_what(detail)}"


def _key_path(loc: tuple[str | int, ...]) -> str:
    """``approval.approvers[1]``, ``models."bad alias"`` (TOML's way of writing odd keys)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part != "[key]":  # pydantic's marker for "the dict key itself is wrong"
            key = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            path += f".{key}" if path else key
    return path


def _what(detail: ErrorDetails) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        return f"unknown key{_did_you_mean(detail['loc'])}"
    if kind == "missing":
        return "is required"
    if kind == "string_pattern_mismatch":
        return f"{detail['input']!r} is not a valid alias (letters, digits, '-', '_' and '.')"
    message = detail["msg"]
    return message.removeprefix("Value error, ")


def _did_you_mean(loc: tuple[str | int, ...]) -> str:
    """`` (did you mean 'approvers'?)`` for a misspelt key, else `` (check the spelling)``."""
    known = _keys_at(loc[:-1])
    close = difflib.get_close_matches(str(loc[-1]), known, n=1) if loc else []
    return f" (did you mean {close[0]!r}?)" if close else " (check the spelling)"


def _keys_at(parent: tuple[str | int, ...]) -> list[str]:
    """The TOML keys a section at ``parent`` accepts (top level: the sections themselves)."""
    model: type[BaseModel] = Settings
    expect_key = False  # inside a table of models: the next part is an alias, not a field
    for part in parent:
        if expect_key:
            expect_key = False
            continue
        field = model.model_fields.get(str(part))
        annotation = getattr(field, "annotation", None)
        args = getattr(annotation, "__args__", ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
            model, expect_key = args[-1], True
        else:
            return []
    return [name for name, field in model.model_fields.items() if field.alias is None]
