#!/usr/bin/env bash
# Regenerate requirements.lock: alm-bot's runtime dependencies only (no dev or bench group), each
# pinned with the sha256 hashes of all its distributions, for CPython 3.11 on Linux — what the
# Dockerfile installs with `uv pip sync --require-hashes`. No index, find-links or download URL is
# written. uv reads pyproject.toml's [tool.uv] exclude-newer, so the pins honour the same cutoff as
# uv.lock. Pins already in the file are kept where pyproject.toml still allows them; pass --upgrade
# to move every pin to the newest release before the cutoff. tests/test_lock.py checks the result.
set -euo pipefail
cd "$(dirname "$0")/.."

uv pip compile pyproject.toml \
    --quiet \
    --generate-hashes \
    --python-version 3.11 \
    --python-platform linux \
    --custom-compile-command "tools/lock.sh" \
    --output-file requirements.lock \
    "$@"
