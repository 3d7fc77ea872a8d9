"""`Sandbox`: one emulated Anaplan tenant — its world, clock, sessions, faults, rate limit and log.

This is the object tests and the control endpoints drive; the routes read and change the world
through it. Everything is in memory and runs on the event loop of whoever serves the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from alm_bot.sandbox import seed
from alm_bot.sandbox.certificates import ReplayGuard
from alm_bot.sandbox.changes import Change, synthetic_change
from alm_bot.sandbox.clock import SandboxClock
from alm_bot.sandbox.errors import ApiError, ControlError
from alm_bot.sandbox.faults import Fault, FaultList
from alm_bot.sandbox.fidelity import Fidelity
from alm_bot.sandbox.oauth import OAuthService
from alm_bot.sandbox.ratelimit import TokenBucket
from alm_bot.sandbox.state import Model, User, World
from alm_bot.sandbox.tasks import settle
from alm_bot.sandbox.tokens import TokenStore

__all__ = ["ACTIVE_STATES", "DEFAULT_BURST", "DEFAULT_RATE_PER_SECOND", "RequestLogEntry", "Sandbox"]

ACTIVE_STATES: Final = (
    "UNLOCKED",
    "MAINTENANCE",
    "PRODUCTION",
    "PRODUCTION_MAINTENANCE",
    "LOCKED",
    "ARCHIVED",
)
DEFAULT_RATE_PER_SECOND: Final = 10.0
DEFAULT_BURST: Final = 20
_LOG_KEEP: Final = 20_000
"""The request log keeps the newest entries only, so a long benchmark cannot exhaust memory."""


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    method: str
    path: str
    """Below the mount point, without the query string."""
    status: int
    time: float
    """Sandbox time (epoch seconds) when the request arrived."""


class Sandbox:
    """An emulated Anaplan tenant.

    ``task_duration`` — seconds of sandbox time an ALM task runs (0: complete at once);
    ``token_ttl`` — auth token lifetime; ``rate_limit_per_second``/``rate_limit_burst`` — the
    token bucket (``None`` rate: unlimited; the default is the only published figure, ~10/s, with
    a small burst); ``clock`` — epoch-seconds source instead of the wall clock (`advance` still
    adds to it); ``fidelity`` — the strictness switches (`alm_bot.sandbox.fidelity`).
    """

    def __init__(
        self,
        task_duration: float = 3.0,
        token_ttl: float = 35 * 60,
        rate_limit_per_second: float | None = DEFAULT_RATE_PER_SECOND,
        rate_limit_burst: int = DEFAULT_BURST,
        clock: Callable[[], float] | None = None,
        fidelity: Fidelity | None = None,
    ) -> None:
        if task_duration < 0:
            raise ValueError("task_duration cannot be negative")
        self.task_duration = task_duration
        self.fidelity = fidelity if fidelity is not None else Fidelity()
        self.clock = SandboxClock(clock)
        self.world: World = seed.build_world()
        self.tokens = TokenStore(token_ttl)
        self.replays = ReplayGuard()
        self.oauth = OAuthService(frozenset({seed.OAUTH_CLIENT_ID}))
        self.faults = FaultList()
        self.rate_limiter = TokenBucket(rate_limit_per_second, rate_limit_burst, self.clock.now)
        self.request_log: list[RequestLogEntry] = []

    # --- time --------------------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def advance(self, seconds: float) -> None:
        """Move sandbox time forward: tasks progress, tokens and reports expire, the bucket refills."""
        self.clock.advance(seconds)

    # --- state -------------------------------------------------------------------------------

    def reset(self) -> None:
        """Back to the seed data; drops tasks, reports, faults and the request log.

        Sessions, the clock and the rate-limit settings survive, so connected clients stay logged in.
        """
        self.world = seed.build_world()
        self.faults.clear()
        self.request_log.clear()
        self.rate_limiter.configure(self.rate_limiter.rate, self.rate_limiter.burst)

    def settle(self) -> float:
        """Finish the tasks whose time has come; returns the sandbox time used."""
        now = self.clock.now()
        settle(self.world, now)
        return now

    def begin_api_call(self, authorization: str) -> tuple[User, float]:
        """Authenticate an API call (401 otherwise) and bring the world up to now."""
        now = self.clock.now()
        user = self.tokens.api_user(authorization, now)
        if user is None:
            raise ApiError(401, "The authentication token is missing, invalid or expired.")
        settle(self.world, now)
        return user, now

    def token_for(self, email: str = seed.ADMIN_USER) -> str:
        """A fresh token for a sandbox user, without an HTTP login (handy in tests)."""
        user = self.world.user_by_email(email)
        if user is None:
            raise KeyError(f"no sandbox user {email!r}")
        return self.tokens.issue(user, self.clock.now()).token_value

    # --- rehearsal controls -------------------------------------------------------------------

    def _control_model(self, model_id: str) -> Model:
        model = self.world.live_model(model_id)
        if model is None:
            raise ControlError(404, f"Model '{model_id}' was not found.")
        return model

    def approve_device_login(self, user_code: str, email: str = seed.ADMIN_USER) -> None:
        """What the person does in the browser: approve the device login showing ``user_code``."""
        user = self.world.user_by_email(email)
        if user is None:
            raise ControlError(404, f"No sandbox user '{email}'.")
        if not self.oauth.approve(user_code, user, self.clock.now()):
            raise ControlError(404, f"No pending device login with user code '{user_code}'.")

    def structural_change(self, model_id: str, change: Change | None = None) -> int:
        """Make one structural change — ``change``, or the next synthetic one — (standard mode only);
        returns the pending count."""
        model = self._control_model(model_id)
        if not model.is_standard:
            raise ControlError(
                409, f"Model '{model.name}' is {model.active_state}: structural changes need standard mode."
            )
        self.world.structural_change_count += 1
        model.pending_changes.append(change or synthetic_change(self.world.structural_change_count))
        model.last_modified = self.clock.now()
        model.last_saved_serial_number += 1
        return len(model.pending_changes)

    def fail_next_sync(self, model_id: str) -> None:
        """The next sync into this model completes unsuccessfully: workspace size limit exceeded."""
        self._control_model(model_id).fail_next_sync = True

    def skip_next_sync(self, model_id: str) -> None:
        """The next sync into this model completes successfully but leaves the model where it was."""
        self._control_model(model_id).skip_next_sync = True

    def set_active_state(self, model_id: str, active_state: str) -> None:
        """Force a model's ``activeState`` (e.g. LOCKED), for rehearsing refusals."""
        if active_state not in ACTIVE_STATES:
            raise ControlError(400, f"activeState must be one of {', '.join(ACTIVE_STATES)}.")
        self._control_model(model_id).active_state = active_state

    def add_fault(
        self,
        method: str,
        path_regex: str,
        status: int | None = None,
        times: int = 1,
        retry_after: float | None = None,
        delay: float | None = None,
    ) -> Fault:
        """Fail or delay the next ``times`` matching requests (see `alm_bot.sandbox.faults`)."""
        return self.faults.add(method, path_regex, status, times, retry_after, delay)

    def set_rate_limit(self, per_second: float | None, burst: int) -> None:
        self.rate_limiter.configure(per_second, burst)

    def record(self, method: str, path: str, status: int, time: float) -> None:
        if len(self.request_log) >= 2 * _LOG_KEEP:
            del self.request_log[:_LOG_KEEP]
        self.request_log.append(RequestLogEntry(method, path, status, time))
