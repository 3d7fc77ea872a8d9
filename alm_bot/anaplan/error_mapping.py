"""Translate Anaplan's HTTP answers and transport failures into the alm-bot error tree.

Every message is a complete sentence a user can act on, built from an ``Endpoint`` that says what was
being done ("list the revisions of model 8A2C…"). Anaplan's own text is kept in ``anaplan_message``
(read from ``status.message`` when the body has that envelope, otherwise the raw text, reference §7).
Nothing here ever sees the token: only the response body, status and the request path.
"""

from __future__ import annotations

import json
from typing import Final, NamedTuple, TypedDict

import httpx2

from alm_bot.anaplan.retry import retry_after_seconds
from alm_bot.errors import (
    AnaplanError,
    AnaplanUnavailable,
    AuthenticationFailed,
    InvalidRequest,
    ModelArchived,
    ModelBusy,
    NotFound,
    PermissionDenied,
    RateLimited,
)

__all__ = ["Endpoint", "anaplan_message", "error_for_response", "error_for_transport_failure"]

_MAX_MESSAGE_LENGTH: Final = 500


class Endpoint(NamedTuple):
    """One Anaplan call as the error messages describe it.

    ``path`` is relative to the API (or auth) base URL and never holds a query string. ``action``
    completes "could not …". ``cross_model`` calls need the Workspace Administrator role on both
    models; ``report`` calls answer 424 instead of 403 for a missing role. ``missing`` completes
    "the … is unknown or inaccessible"; ``gone`` replaces that whole explanation of a 404.
    A ``NamedTuple`` because one is built for every call and tuples are the cheapest to build.
    """

    path: str
    action: str
    missing: str = "model"
    cross_model: bool = False
    report: bool = False
    gone: str = ""


class _Context(TypedDict):
    status: int
    anaplan_message: str
    path: str


def anaplan_message(response: httpx2.Response) -> str:
    """Anaplan's explanation: ``status.message`` (ALM/Integration), ``statusMessage`` (auth), or the text."""
    text = response.text.strip()
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, dict):
        status = body.get("status")
        if isinstance(status, dict) and isinstance(status.get("message"), str):
            return str(status["message"]).strip()
        if isinstance(body.get("statusMessage"), str):
            return str(body["statusMessage"]).strip()
    return text[:_MAX_MESSAGE_LENGTH]


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def _role_message(endpoint: Endpoint) -> str:
    where = "on both the source and the target model" if endpoint.cross_model else "on the model"
    return (
        f"Anaplan refused to {endpoint.action}: this needs the Workspace Administrator role {where}. "
        "Ask a workspace administrator to grant it."
    )


def _not_found_message(endpoint: Endpoint) -> str:
    reason = endpoint.gone or f"the {endpoint.missing} is unknown or inaccessible to the Anaplan user"
    return f"Could not {endpoint.action}: {_sentence(reason)}"


def error_for_response(response: httpx2.Response, endpoint: Endpoint) -> AnaplanError:
    """The error for a non-2xx answer to ``endpoint`` (after any retries and the one re-login)."""
    status = response.status_code
    said = anaplan_message(response)
    context: _Context = {"status": status, "anaplan_message": said, "path": endpoint.path}
    if status == 400:
        because = _sentence(said) if said else "Anaplan gave no reason."
        return InvalidRequest(f"Anaplan refused to {endpoint.action}: {because}", **context)
    if status == 401:
        return AuthenticationFailed(
            f"Anaplan did not accept alm-bot's credentials when trying to {endpoint.action}. "
            "Check the configured Anaplan user, password, certificate or token.",
            **context,
        )
    if status == 403 or (status == 424 and endpoint.report):
        return PermissionDenied(_role_message(endpoint), **context)
    if status == 404:
        return NotFound(_not_found_message(endpoint), **context)
    if status == 409:
        busy = endpoint.path.split("/models/", 1)[-1].split("/", 1)[0]
        return ModelBusy(
            f"Could not {endpoint.action}: model {busy} is busy — another sync or change is running "
            "on it. Try again when it finishes.",
            **context,
        )
    if status == 422:
        return ModelArchived(
            f"Could not {endpoint.action}: the model is archived. "
            "Restore it in Anaplan before using ALM on it.",
            **context,
        )
    if status == 429:
        hint = retry_after_seconds(response)
        when = "in a minute" if hint is None else f"in {hint:.0f} second{'' if round(hint) == 1 else 's'}"
        return RateLimited(
            f"Anaplan is limiting the request rate, so alm-bot could not {endpoint.action}. "
            f"Try again {when}.",
            retry_after=hint,
            **context,
        )
    if status >= 500:
        return AnaplanUnavailable(
            f"Anaplan is having trouble (HTTP {status}), so alm-bot could not {endpoint.action}. "
            "Try again in a few minutes.",
            **context,
        )
    detail = f" Anaplan said: {_sentence(said)}" if said else ""
    return AnaplanError(f"Anaplan refused to {endpoint.action} (HTTP {status}).{detail}", **context)


def error_for_transport_failure(exc: httpx2.TransportError, endpoint: Endpoint) -> AnaplanUnavailable:
    """The error for a request that got no answer (after any retries)."""
    if isinstance(exc, httpx2.ConnectError | httpx2.ConnectTimeout):
        message = (
            f"Could not reach Anaplan to {endpoint.action} ({type(exc).__name__}). "
            "Check the network and the configured Anaplan URLs, then try again."
        )
    elif isinstance(exc, httpx2.TimeoutException):
        message = (
            f"Anaplan did not answer in time when asked to {endpoint.action}. A dormant model may still "
            "be loading into memory; try again in a minute or two."
        )
    else:
        message = (
            f"The connection to Anaplan failed while trying to {endpoint.action} ({type(exc).__name__}). "
            "Try again in a few minutes."
        )
    return AnaplanUnavailable(message, path=endpoint.path)
