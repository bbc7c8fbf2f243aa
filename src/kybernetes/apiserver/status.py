"""Kubernetes `Status` errors and the middleware that answers every failure with one.

Handlers raise `StatusError` (usually through a constructor below, which reproduces
the exact message, reason and details of `k8s.io/apimachinery/pkg/api/errors`); the
outermost middleware, `status_middleware`, turns it into a `Status` JSON body.

Invariants:
- Every failed request gets a `Status` body: a `StatusError`, an aiohttp HTTP error
  (unknown path, method, oversized body), or an unexpected exception, which is logged
  with its traceback and answered 500 InternalError. The server never crashes on a
  request. Cancellation (the client went away) propagates untouched.
- A handler that has already started a streamed response (a watch) owns its errors:
  once the status line is sent, no `Status` can replace it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.typedefs import Handler

log = logging.getLogger(__name__)

_REASON_FOR_CODE = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Gone",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


@dataclass(frozen=True, slots=True)
class StatusCause:
    """One cause of a failure (`metav1.StatusCause`); `reason` is its CauseType,
    e.g. "FieldValueRequired", and `field` a JSON path like "spec.containers[0].name"."""

    reason: str = ""
    message: str = ""
    field: str = ""

    def to_dict(self) -> dict[str, str]:
        fields = (("reason", self.reason), ("message", self.message), ("field", self.field))
        return {k: v for k, v in fields if v}


class StatusError(Exception):
    """A failure answered with a Kubernetes `Status` (kind Status, status Failure).

    `details` is the `StatusDetails` object in its JSON form (name, group, kind, uid,
    causes, retryAfterSeconds), or None to leave it out.
    """

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details

    def status(self) -> dict[str, Any]:
        """The `Status` object, with Kubernetes' field order and omitempty rules."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
        }
        if self.message:
            body["message"] = self.message
        if self.reason:
            body["reason"] = self.reason
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def response(self) -> web.Response:
        response = web.Response(
            body=orjson.dumps(self.status()), status=self.code, content_type="application/json"
        )
        retry = (self.details or {}).get("retryAfterSeconds")
        if retry:
            response.headers["Retry-After"] = str(retry)
        return response


def qualified(resource: str, group: str) -> str:
    """`schema.GroupResource.String()`: "pods", "deployments.apps"."""
    return f"{resource}.{group}" if group else resource


def _details(resource: str, name: str, group: str, **extra: Any) -> dict[str, Any]:
    fields = {"name": name, "group": group, "kind": resource, **extra}
    return {k: v for k, v in fields.items() if v}


def not_found(resource: str, name: str, group: str = "") -> StatusError:
    message = f"{qualified(resource, group)} {quote(name)} not found"
    return StatusError(404, "NotFound", message, _details(resource, name, group))


def already_exists(resource: str, name: str, group: str = "") -> StatusError:
    message = f"{qualified(resource, group)} {quote(name)} already exists"
    return StatusError(409, "AlreadyExists", message, _details(resource, name, group))


def conflict(resource: str, name: str, reason: str, group: str = "") -> StatusError:
    """E.g. reason "the object has been modified; please apply your changes to the
    latest version and try again"."""
    message = f"Operation cannot be fulfilled on {qualified(resource, group)} {quote(name)}: "
    return StatusError(409, "Conflict", message + reason, _details(resource, name, group))


def invalid(kind: str, name: str, causes: Sequence[StatusCause], group: str = "") -> StatusError:
    """422 Invalid, as `NewInvalid(GroupKind, name, field.ErrorList)`: each cause's
    `message` is the field error's body (e.g. "Required value")."""
    errors = list(dict.fromkeys(f"{c.field}: {c.message}" for c in causes))
    message = f"{qualified(kind, group)} {quote(name)} is invalid"
    if len(errors) == 1:
        message += f": {errors[0]}"
    elif errors:
        message += f": [{', '.join(errors)}]"
    details = _details(kind, name, group)
    details["causes"] = [c.to_dict() for c in causes]
    return StatusError(422, "Invalid", message, details)


def bad_request(message: str) -> StatusError:
    return StatusError(400, "BadRequest", message)


def unauthorized(message: str = "Unauthorized") -> StatusError:
    return StatusError(401, "Unauthorized", message)


def forbidden(resource: str, name: str, reason: str, group: str = "") -> StatusError:
    """403 as `NewForbidden`: `pods "x" is forbidden: <reason>`, `pods is forbidden:
    <reason>` without a name, `forbidden: <reason>` without a resource."""
    if not resource and not group:
        message = f"forbidden: {reason}"
    elif not name:
        message = f"{qualified(resource, group)} is forbidden: {reason}"
    else:
        message = f"{qualified(resource, group)} {quote(name)} is forbidden: {reason}"
    return StatusError(403, "Forbidden", message, _details(resource, name, group))


def method_not_allowed(resource: str, action: str, group: str = "") -> StatusError:
    """405 as `NewMethodNotSupported`, e.g. action "create" on "nodes/proxy"."""
    message = f"{action} is not supported on resources of kind {quote(qualified(resource, group))}"
    return StatusError(405, "MethodNotAllowed", message, _details(resource, "", group))


def gone(message: str) -> StatusError:
    return StatusError(410, "Gone", message)


def expired(message: str) -> StatusError:
    """410 Expired: a resourceVersion older than the compacted revision, e.g.
    "too old resource version: 5 (10)"."""
    return StatusError(410, "Expired", message)


def not_acceptable(accepted: Sequence[str]) -> StatusError:
    message = f"only the following media types are accepted: {', '.join(accepted)}"
    return StatusError(406, "NotAcceptable", message)


def unsupported_media_type(accepted: Sequence[str]) -> StatusError:
    message = (
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted)
    )
    return StatusError(415, "UnsupportedMediaType", message)


def too_large(message: str) -> StatusError:
    return StatusError(413, "RequestEntityTooLarge", f"Request entity too large: {message}")


def service_unavailable(message: str, retry_after_seconds: int = 0) -> StatusError:
    details = {"retryAfterSeconds": retry_after_seconds} if retry_after_seconds else None
    return StatusError(503, "ServiceUnavailable", message, details)


def internal_error(cause: str) -> StatusError:
    details = {"causes": [{"message": cause}]}
    return StatusError(500, "InternalError", f"Internal error occurred: {cause}", details)


def quote(s: str) -> str:
    """Go's %q for the names Kubernetes allows (no control characters)."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _from_http_exception(e: web.HTTPException) -> StatusError:
    if e.status == 404:
        message = "the server could not find the requested resource"
        return StatusError(404, "NotFound", message, {})
    if e.status == 405:
        message = "the server does not allow this method on the requested resource"
        return StatusError(405, "MethodNotAllowed", message)
    if e.status == 413:
        return too_large(e.text or e.reason)
    return StatusError(e.status, _REASON_FOR_CODE.get(e.status, ""), e.text or e.reason)


@web.middleware
async def status_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The outermost middleware: every failure below it becomes a `Status` answer."""
    try:
        return await handler(request)
    except StatusError as e:
        return e.response()
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return _from_http_exception(e).response()
    except Exception as e:
        log.exception("unexpected error serving %s %s", request.method, request.path)
        return internal_error(str(e) or type(e).__name__).response()
