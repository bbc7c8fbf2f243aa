"""Errors of the API client: the server's `Status` answers and transport failures.

`APIError` carries the `Status` the server answered (or one synthesized from a
non-Status error body) with its `code`, `reason` and `message`. `Expired` (410 Gone,
reason `Expired`) is the one callers must tell apart: a watch or a continue token
asked for history the server no longer has, and the only remedy is to list afresh.
`TransportError` means no answer at all (connection refused or reset, TLS failure,
timeout): the request may or may not have taken effect.

The `is_*` helpers accept any exception, so `except Exception as e: if is_not_found(e)`
works; they follow apimachinery's `errors.IsNotFound` and friends (reason first, the
HTTP code when the reason is unset).
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    """The API server answered with an error `Status`."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status = status
        self.code: int = int(status.get("code") or 0)
        self.reason: str = str(status.get("reason") or "")
        self.message: str = str(status.get("message") or "")
        super().__init__(f"{self.code} {self.reason or 'Error'}: {self.message}")

    @property
    def details(self) -> dict[str, Any]:
        """The Status's `details` (name, kind, causes); empty when absent."""
        details = self.status.get("details")
        return details if isinstance(details, dict) else {}

    @classmethod
    def from_response(cls, code: int, body: Any, fallback: str) -> APIError:
        """The error for an HTTP answer: its Status body, or one made from `fallback`
        (the body's text) when the body is not a Status."""
        if isinstance(body, dict) and body.get("kind") == "Status":
            status = dict(body)
            status.setdefault("code", code)
        else:
            status = {
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "code": code,
                "reason": _REASONS.get(code, ""),
                "message": fallback,
            }
        error_type = Expired if _is_expired(status) else APIError
        return error_type(status)


class Expired(APIError):
    """410 Gone: the requested resourceVersion or continue token is too old."""


class TransportError(Exception):
    """The request got no HTTP answer (the cause is chained)."""


_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Gone",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def _is_expired(status: dict[str, Any]) -> bool:
    return status.get("code") == 410 or status.get("reason") in ("Expired", "Gone")


def _reason_or_code(error: BaseException, reason: str, code: int) -> bool:
    if not isinstance(error, APIError):
        return False
    return error.reason == reason if error.reason else error.code == code


def is_not_found(error: BaseException) -> bool:
    """404 NotFound: the object (or its namespace) does not exist."""
    return _reason_or_code(error, "NotFound", 404)


def is_already_exists(error: BaseException) -> bool:
    """409 AlreadyExists: create of a name that is taken."""
    return isinstance(error, APIError) and error.reason == "AlreadyExists"


def is_conflict(error: BaseException) -> bool:
    """409 Conflict: a stale resourceVersion or failed precondition; re-read and retry."""
    return _reason_or_code(error, "Conflict", 409)


def is_invalid(error: BaseException) -> bool:
    """422 Invalid: the object failed validation (see `details.causes`)."""
    return _reason_or_code(error, "Invalid", 422)


def is_forbidden(error: BaseException) -> bool:
    """403 Forbidden: not authorized, or refused by admission (e.g. a terminating
    namespace)."""
    return _reason_or_code(error, "Forbidden", 403)


def is_expired(error: BaseException) -> bool:
    """410: the resourceVersion or continue token is too old; list afresh."""
    return isinstance(error, Expired)
