"""Authorization: may this user do what this request asks?

An `Authorizer` decides from the user (`authn.UserInfo`) and the request's
`RequestInfo` (verb, API group, resource, namespace, name, or a non-resource path).
`authorization_middleware` runs after authentication and answers 403 with
Kubernetes' exact message unless the decision is ALLOW.

Today the server runs `AlwaysAllow`. RBAC plugs in as another `Authorizer` passed to
`create_app` (Kubernetes chains `system:masters` → RBAC; NO_OPINION falls through to
the next authorizer of a chain and, at the end, denies).
"""

from __future__ import annotations

import enum
from typing import Protocol

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from .authn import USER_KEY, UserInfo
from .requestinfo import REQUEST_INFO_KEY, RequestInfo
from .status import StatusError, forbidden, quote


class Decision(enum.Enum):
    DENY = "Deny"
    ALLOW = "Allow"
    NO_OPINION = "NoOpinion"


class Authorizer(Protocol):
    """Decides one request. Safe for concurrent use; async because an implementation
    may consult a remote service."""

    async def authorize(self, user: UserInfo, request: RequestInfo) -> tuple[Decision, str]:
        """The decision and a reason (shown to the user on denial; may be "")."""
        ...


class AlwaysAllow:
    """Allows everything: the placeholder until RBAC exists."""

    async def authorize(self, user: UserInfo, request: RequestInfo) -> tuple[Decision, str]:
        return Decision.ALLOW, ""


def forbidden_error(user: UserInfo, request: RequestInfo, reason: str) -> StatusError:
    """The 403 Kubernetes answers, e.g. `pods "web" is forbidden: User "bob" cannot get
    resource "pods" in API group "" in the namespace "default"`."""
    if not request.is_resource_request:
        message = f"User {quote(user.name)} cannot {request.verb} path {quote(request.path)}"
    else:
        resource = request.resource
        if request.subresource:
            resource += "/" + request.subresource
        message = (
            f"User {quote(user.name)} cannot {request.verb} resource {quote(resource)} "
            f"in API group {quote(request.api_group)}"
        )
        if request.namespace:
            message += f" in the namespace {quote(request.namespace)}"
        else:
            message += " at the cluster scope"
    if reason:
        message += f": {reason}"
    return forbidden(request.resource, request.name, message, request.api_group)


def authorization_middleware(authorizer: Authorizer) -> Middleware:
    """Runs `authorizer` on every request; anything but ALLOW is answered 403."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        user, info = request[USER_KEY], request[REQUEST_INFO_KEY]
        decision, reason = await authorizer.authorize(user, info)
        if decision is not Decision.ALLOW:
            raise forbidden_error(user, info, reason)
        return await handler(request)

    return middleware
