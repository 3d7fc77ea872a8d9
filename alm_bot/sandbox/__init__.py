"""The Anaplan sandbox: an in-memory emulator of Anaplan's auth service, model discovery and ALM API.

::

    from alm_bot.sandbox import Sandbox, create_app, seed

    sandbox = Sandbox(task_duration=3.0)      # an emulated tenant, seeded (see `seed`)
    app = create_app(sandbox)                 # Starlette app; app.state.sandbox is the Sandbox
    sandbox.advance(5)                        # tasks finish, tokens/reports age — no sleeping

Module map: `sandbox` (the tenant: world, clock, sessions, faults, rate limit, log), `app` (the
ASGI app and the choices made where the reference is uncertain), `seed` (fixed ids and data),
`state` (the world's dataclasses), `alm` (ALM rules), `lineage` (compatibility), `tasks` (task
progress and effects), `reports` (summary and comparison contents), `changes` (synthetic change
sets), `routes_auth` / `routes_oauth` / `routes_discovery` / `routes_alm` / `control` (HTTP),
`tokens`, `certificates` and `oauth` (auth), `fidelity` (the strictness switches), `gate` /
`faults` / `ratelimit` / `media` (what stands in front of the routes),
`inputs` / `views` / `envelopes` / `paging` / `urls` / `formats` (wire formats), `server`
(`alm-bot sandbox`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from alm_bot.sandbox import seed
    from alm_bot.sandbox.app import create_app
    from alm_bot.sandbox.sandbox import RequestLogEntry, Sandbox

__all__ = ["RequestLogEntry", "Sandbox", "create_app", "seed"]

# Imported on first use: `alm-bot mcp --sandbox` needs only `seed` (for its configuration) before it
# answers tools/list, and the app (Starlette routes, certificate checks) costs ~30 ms to import.
_HOMES = {
    "RequestLogEntry": "alm_bot.sandbox.sandbox",
    "Sandbox": "alm_bot.sandbox.sandbox",
    "create_app": "alm_bot.sandbox.app",
}


def __getattr__(name: str) -> Any:
    if name == "seed":
        return importlib.import_module("alm_bot.sandbox.seed")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'alm_bot.sandbox' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
