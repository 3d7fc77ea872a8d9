"""Content negotiation as Anaplan's JSON endpoints do it: 415 without a JSON body type, 406 for an
``Accept`` that rules JSON out (reference §1.1; switched by `Fidelity`).

- ``POST``/``PUT`` under ``/2/0`` and a certificate login (``/token/authenticate`` with a body) must
  say ``Content-Type: application/json`` (parameters such as ``charset`` allowed);
- every JSON endpoint answers 406 when ``Accept`` is present and no media range in it matches
  ``application/json`` (``*/*`` and ``application/*`` do). The comparison report download is not a
  JSON endpoint: its route refuses ``application/json`` itself.
"""

from __future__ import annotations

from typing import Final

from starlette.datastructures import Headers

from alm_bot.sandbox.errors import ApiError

__all__ = ["NOT_ACCEPTABLE", "UNSUPPORTED_MEDIA_TYPE", "check_media"]

UNSUPPORTED_MEDIA_TYPE: Final = "Unsupported Media Type: send the body as Content-Type: application/json."
NOT_ACCEPTABLE: Final = "Not Acceptable: this endpoint answers with application/json."
_JSON_RANGES: Final = frozenset({"*/*", "application/*", "application/json"})
_DOWNLOAD_MARK: Final = "/alm/comparisonReports/"


def _media_type(value: str) -> str:
    return value.split(";")[0].strip().lower()


def _takes_json_body(method: str, path: str, headers: Headers) -> bool:
    if method not in ("POST", "PUT"):
        return False
    if path.startswith("/2/0/"):
        return True
    return path == "/token/authenticate" and headers.get("authorization", "").startswith("CACertificate")


def _answers_json(path: str) -> bool:
    return (path.startswith("/2/0/") and _DOWNLOAD_MARK not in path) or path.startswith("/token/")


def check_media(method: str, path: str, headers: Headers, *, content_type: bool, accept: bool) -> None:
    """Raise the 415 or 406 `ApiError` this request deserves, if any."""
    body_type = _media_type(headers.get("content-type", ""))
    if content_type and _takes_json_body(method, path, headers) and body_type != "application/json":
        raise ApiError(415, UNSUPPORTED_MEDIA_TYPE)
    if accept and _answers_json(path):
        wanted = headers.get("accept", "").strip()
        if wanted and not any(_media_type(part) in _JSON_RANGES for part in wanted.split(",")):
            raise ApiError(406, NOT_ACCEPTABLE)
