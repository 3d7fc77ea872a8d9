"""Rows as alm-bot wrote them before typed records (migration 0002), and their typed form.

The conversion is migration 0002's own, loaded from its file, so tests that describe a request the
old flat way also check what the migration makes of it.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import TypeAdapter

import alm_bot.migrations
from alm_bot.records import Plan

__all__ = ["migration_0002", "plan_from_flat"]

_PLAN: TypeAdapter[Any] = TypeAdapter(Plan)


@cache
def migration_0002() -> ModuleType:
    path = Path(alm_bot.migrations.__file__).parent / "versions" / "0002_typed_records.py"
    spec = importlib.util.spec_from_file_location("alm_bot_migration_0002", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plan_from_flat(operation: str, flat: dict[str, Any]) -> Any:
    """The typed plan migration 0002 makes of a flat plan dictionary."""
    migration = migration_0002()
    nested = migration._sync_plan(flat) if operation == "sync" else migration._status_plan(flat)
    return _PLAN.validate_python(nested)
