"""`create_app`: the sandbox as one Starlette ASGI app — auth service, discovery, ALM, controls.

One app serves everything: the auth service at its root (``/token/…``), the Integration and ALM
APIs under ``/2/0``, and the sandbox's control endpoints under ``/_sandbox``. Point
``ANAPLAN_AUTH_URL`` at the app's base URL and ``ANAPLAN_API_URL`` at base + ``/2/0``. It can be
mounted under a prefix (``Mount("/sandbox", app)``); every URL it hands out includes the prefix.
``app.state.sandbox`` is the `Sandbox` behind it.

Choices made where the reference is **[UNCERTAIN]** (each is tested in ``tests/sandbox``):

1. *ALM error body*: the Integration API envelope ``{"status": {"code", "message"}, "path",
   "timestamp"}``; the 424 of report endpoints carries an empty message.
2. *Task progress*: IN_PROGRESS, then COMPLETE (the only states ALM's docs show), never a
   ``progress`` field; ``currentStep`` ("Applying revision", "Complete." / "Failed.") on some tasks
   only, drawn per task from `Fidelity.seed` (see `fidelity` for the switches of items 2, 3, 7, 16
   and the others below).
3. *Results*: the minimal documented shapes (``{"successful": true}``, failures without revision
   ids) on some tasks, the rich ones (both revision ids, which anaplan-sdk requires) on others;
   ``error.subtitle`` appears only on the oversized-sync failure.
4. *Incompatible pairs* are accepted at POST (201) and the task completes with ``successful:
   false`` and "The target and source revisions are incompatible". Ids that do not exist for their
   model — a ``sourceRevisionId`` outside the source's history, a ``targetRevisionId`` outside the
   target's, an unknown ``sourceModelId`` — are refused at POST with 400. Compatibility is judged
   when the task finishes, so of two syncs started from the same target revision the second fails.
5. *Sync targets* may be in standard mode and online; nothing documented refuses that.
6. *Online status*: an archived model answers 422 (not 400); a locked one 400 "The model is
   locked and cannot change status."; asking for the current state is a no-op 204; POST is
   accepted like PUT.
7. *Revision list*: ``sort`` accepts ``+field``, ``-field`` and a bare ``field`` (ascending) over
   id, name, createdOn, appliedOn, createdBy, appliedBy; unsorted, the model's history order
   (oldest first). ``appliedAfter`` includes its day, ``appliedBefore`` excludes its day (UTC).
   Entries carry no ``appliedOn``/``appliedBy`` (APIARY's example); ``meta.paging`` has
   ``next``/``previous`` links (as on the Integration API).
8. *Empty results* leave the list key out everywhere, syncableRevisions included.
9. *Sync task list*: newest first (APIARY's prose), ties in creation order; tasks of every kind
   stay readable until 48 h after they finish, then 404.
10. *Summary report*: ``totals`` always carries created/modified/deleted (zeros included), while
    ``differences`` leaves out empty categories and zero counts; the key for list subsets is
    ``listSubsets``. Reports expire 48 h after generation; reading one does not extend that.
11. *Comparison report sections* beyond APIARY's sample follow its pattern: ``… ADDED``,
    ``… CHANGED`` / ``CHANGES WITHIN LISTS``, ``… DELETED``; empty sections are left out.
12. *Token refresh* returns the same ``tokenValue`` and ``refreshTokenId`` with a later expiry;
    authenticate and refresh answers also carry the announced ``refreshToken``.
13. *No structural change*: creating a revision answers 400 "There are no structural changes since
    the last revision tag. …"; outside standard mode 400 "Revision tags can only be added to models
    in standard mode. …".
14. *Order of checks*: 429/faults, then ``Content-Type`` (415) and ``Accept`` (406), then 401,
    then the body's syntax and mandatory fields (400), then the path model (404, 403/424, 422),
    then 409 model busy, then the source model, then body ids (400). The report download checks
    its own ``Accept`` (406) right after authentication.
15. *Certificate login*: a malformed header or body is 400 FAILURE_BAD_HEADER; a wrong signature,
    fewer than 100 bytes of data, a certificate not valid at sandbox time, or an unknown user is
    401 FAILURE_BAD_CREDENTIAL. Any issuer is accepted. A v2 payload's big-endian timestamp must be
    within ±5 minutes and the payload is accepted once; ``strict_auth`` refuses v1 (401).
16. *Rate limit*: 10 requests/s, burst 20 (the one published figure), over API, auth and OAuth
    calls together, in sandbox time; the 429 carries ``Retry-After`` in whole seconds (at least 1).
18. *Model busy*: 409 for a sync into, or an online-status change of, a model a sync runs into
    (HELP documents 409 for a busy model or a conflicting action, not per ALM endpoint).
19. *OAuth*: device grant, rotating single-use refresh tokens (30 days), 2100 s access tokens,
    revocation at ``/oauth/revoke`` (RFC 7009; Anaplan's own revocation path is not documented).
17. *Structural changes* (control API) are allowed in standard mode only; a structural change in a
    sync target does not break compatibility here.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from alm_bot.sandbox.control import control_routes
from alm_bot.sandbox.envelopes import api_error, auth_error
from alm_bot.sandbox.errors import ApiError, AuthServiceError, ControlError
from alm_bot.sandbox.gate import SandboxGate
from alm_bot.sandbox.routes_alm import alm_routes
from alm_bot.sandbox.routes_auth import auth_routes
from alm_bot.sandbox.routes_discovery import discovery_routes
from alm_bot.sandbox.routes_oauth import oauth_routes
from alm_bot.sandbox.sandbox import Sandbox

__all__ = ["create_app"]


def _handlers(sandbox: Sandbox) -> dict[type[Exception], object]:
    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return api_error(exc, request.url.path, sandbox.now())

    async def on_auth_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, AuthServiceError)
        return auth_error(exc)

    async def on_control_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ControlError)
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    async def on_http_exception(request: Request, exc: Exception) -> Response:
        # Unknown paths and wrong methods, answered in the API's error shape instead of plain text.
        assert isinstance(exc, HTTPException)
        return api_error(
            ApiError(exc.status_code, exc.detail, dict(exc.headers or {})), request.url.path, sandbox.now()
        )

    return {
        ApiError: on_api_error,
        AuthServiceError: on_auth_error,
        ControlError: on_control_error,
        HTTPException: on_http_exception,
    }


def create_app(sandbox: Sandbox | None = None) -> Starlette:
    """The sandbox app; a fresh `Sandbox` with default settings when none is given."""
    sandbox = sandbox if sandbox is not None else Sandbox()
    routes = [
        *auth_routes(sandbox),
        *oauth_routes(sandbox),
        *discovery_routes(sandbox),
        *alm_routes(sandbox),
        *control_routes(sandbox),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(SandboxGate, sandbox=sandbox)],
        exception_handlers=_handlers(sandbox),  # type: ignore[arg-type]
    )
    app.state.sandbox = sandbox
    return app
