"""What a sandbox handler raises to answer with an error instead of a result.

`ApiError` becomes an Integration-style body ``{"status": {"code", "message"}, "path", "timestamp"}``
(reference §7); `AuthServiceError` becomes the auth service's own ``{"status": "FAILURE_…",
"statusMessage"}`` body (reference §2.2); `ControlError` is for the sandbox's own control endpoints.
"""

from __future__ import annotations

__all__ = ["ApiError", "AuthServiceError", "ControlError"]


class ApiError(Exception):
    """An error answer of the Integration/ALM API: HTTP ``status`` with Anaplan's ``message``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


class AuthServiceError(Exception):
    """An error answer of the auth service: 401 FAILURE_BAD_CREDENTIAL or 400 FAILURE_BAD_HEADER."""

    def __init__(self, status: int, failure: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.failure = failure
        self.message = message

    @classmethod
    def bad_credential(cls, message: str) -> AuthServiceError:
        return cls(401, "FAILURE_BAD_CREDENTIAL", message)

    @classmethod
    def bad_header(cls, message: str) -> AuthServiceError:
        return cls(400, "FAILURE_BAD_HEADER", message)


class ControlError(Exception):
    """A control-endpoint request the sandbox refuses (unknown model, bad value, wrong mode)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
