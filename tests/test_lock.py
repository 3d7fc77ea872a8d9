"""requirements.lock: exactly the runtime dependencies of pyproject.toml, hash-pinned, with no URL.

The Dockerfile installs it with ``uv pip sync --require-hashes``, which refuses any pin without a
hash. ``tools/lock.sh`` regenerates it. These tests fail when a dependency is added to or changed
in pyproject.toml without regenerating the lock, when a hash is missing, when an index, find-links
or download URL sneaks in, or when a package that no runtime dependency needs (a dev tool) is locked.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "requirements.lock"
SCRIPT = ROOT / "tools" / "lock.sh"
PROJECT_ROOT = "alm-bot (pyproject.toml)"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)")
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?$")


@dataclass
class Pin:
    version: str
    hashes: int = 0
    needed_by: set[str] = field(default_factory=set)


def locked() -> dict[str, Pin]:
    """Canonical name → its pin, hash count and the packages it is there for (uv's ``# via``)."""
    pins: dict[str, Pin] = {}
    current: Pin | None = None
    in_via = False
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if match := PIN.match(line):
            current = Pin(match[2])
            name = canonicalize_name(match[1])
            assert name not in pins, f"{name} is pinned twice"
            pins[name] = current
            in_via = False
        elif current is not None and line.lstrip().startswith("--hash="):
            assert HASH.match(line), f"not a sha256 hash line: {line!r}"
            current.hashes += 1
        elif current is not None and (via := re.match(r"^\s+# via(?: (.+))?$", line)):
            in_via = via[1] is None
            if via[1]:
                current.needed_by.add(via[1].strip())
        elif current is not None and in_via and (by := re.match(r"^\s+#\s+(\S.*)$", line)):
            current.needed_by.add(by[1].strip())
    return pins


def runtime_requirements() -> list[Requirement]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        project = tomllib.load(handle)["project"]
    return [Requirement(spec) for spec in project["dependencies"]]


def test_every_runtime_dependency_is_pinned_with_hashes_within_its_range() -> None:
    pins = locked()
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run tools/lock.sh"
        pin = pins[name]
        assert pin.hashes, f"{name}=={pin.version} has no --hash= line"
        assert requirement.specifier.contains(pin.version, prereleases=True), (
            f"{name}=={pin.version} is outside {requirement}: run tools/lock.sh"
        )


def test_every_pin_has_a_hash_so_that_require_hashes_accepts_the_file() -> None:
    pins = locked()
    assert len(pins) >= len(runtime_requirements())
    without = sorted(name for name, pin in pins.items() if not pin.hashes)
    assert not without, f"pins without hashes: {without}"


def test_the_lock_names_no_url_index_or_find_links() -> None:
    text = LOCK.read_text(encoding="utf-8")
    assert "://" not in text, "requirements.lock must not contain URLs"
    options = re.compile(
        r"^\s*(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|-e|--editable|--no-index)\b"
    )
    for number, line in enumerate(text.splitlines(), start=1):
        assert not options.match(line), f"line {number} sets an index or source: {line!r}"
        assert not re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])? @ ", line), f"line {number} is a direct reference"


def test_the_lock_holds_the_runtime_dependencies_and_what_they_need_and_nothing_else() -> None:
    pins = locked()
    direct = {name for name, pin in pins.items() if PROJECT_ROOT in pin.needed_by}
    assert direct == {canonicalize_name(r.name) for r in runtime_requirements()}
    needed, frontier = set(direct), list(direct)
    while frontier:
        parent = frontier.pop()
        for name, pin in pins.items():
            if name not in needed and parent in {canonicalize_name(n) for n in pin.needed_by}:
                needed.add(name)
                frontier.append(name)
    extra = sorted(set(pins) - needed)
    assert not extra, f"locked but needed by no runtime dependency (a dev tool?): {extra}"


def test_the_lock_agrees_with_uv_lock_resolved_under_the_same_exclude_newer() -> None:
    uv_lock = ROOT / "uv.lock"
    if not uv_lock.exists():
        pytest.skip("no uv.lock yet (uv sync or uv run writes it)")
    with uv_lock.open("rb") as handle:
        resolved = tomllib.load(handle)
    versions: dict[str, set[str]] = {}
    for package in resolved["package"]:
        versions.setdefault(canonicalize_name(package["name"]), set()).add(package.get("version", ""))
    for name, pin in locked().items():
        assert pin.version in versions.get(name, set()), (
            f"{name}=={pin.version} but uv.lock resolves {sorted(versions.get(name, ()))}: run tools/lock.sh"
        )


def test_the_lock_script_compiles_runtime_dependencies_with_hashes_for_python_3_11_on_linux() -> None:
    assert os.access(SCRIPT, os.X_OK), "tools/lock.sh must be executable"
    script = SCRIPT.read_text(encoding="utf-8")
    for option in (
        "pip compile pyproject.toml",
        "--generate-hashes",
        "--python-version 3.11",
        "--python-platform linux",
    ):
        assert option in script
    for option in ("--emit-index-url", "--emit-find-links", "--exclude-newer", "--group", "--extra"):
        assert option not in script, f"{option} would change what is locked or write URLs"
    assert "tools/lock.sh" in LOCK.read_text(encoding="utf-8").splitlines()[1]


@pytest.mark.slow
def test_regenerating_the_lock_from_pyproject_changes_nothing(tmp_path: Path) -> None:
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH")
    (tmp_path / "tools").mkdir()
    shutil.copy2(SCRIPT, tmp_path / "tools" / "lock.sh")
    shutil.copy2(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy2(LOCK, tmp_path / "requirements.lock")
    env = {**os.environ, "PATH": f"{Path(uv).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        ["bash", str(tmp_path / "tools" / "lock.sh"), "--offline"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    if result.returncode != 0 and "network was disabled" in result.stderr:
        pytest.skip("uv's cache lacks the index data to resolve offline (run uv sync first)")
    assert result.returncode == 0, result.stderr
    regenerated = (tmp_path / "requirements.lock").read_text(encoding="utf-8")
    assert regenerated == LOCK.read_text(encoding="utf-8"), "requirements.lock is stale: run tools/lock.sh"
