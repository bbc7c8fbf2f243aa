"""What a request asks for, in the terms authorization and routing use.

`parse_request_info(method, path, query)` is Kubernetes' `RequestInfoFactory`:
`/api/v1/namespaces/default/pods/web/log` is a resource request with verb "get",
namespace "default", resource "pods", name "web", subresource "log"; `/healthz` is a
non-resource request with verb "get" (the lower-cased HTTP method).

Invariants (as in Kubernetes):
- Resource requests live under `/api/<version>` and `/apis/<group>/<version>`; any
  other path, or a shorter one, is a non-resource request.
- A GET without a name is "list", or "watch" with `?watch=true` (any value but
  "false"/"0"); a DELETE without a name is "deletecollection". The legacy
  `/watch/` and `/proxy/` path prefixes set the verb themselves.
- `fieldSelector=metadata.name=x` on a list or watch names the object, so a user
  allowed to get one object may list or watch just that one.
- A malformed resource path (`/api/v1/watch` with nothing after it) is an error,
  which callers answer 400.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from .status import bad_request

API_PREFIXES = ("api", "apis")
_GROUPLESS_PREFIXES = ("api",)
_SPECIAL_VERBS = ("proxy", "watch")
_NAMESPACE_SUBRESOURCES = ("status", "finalize")
_VERB_FOR_METHOD = {
    "POST": "create",
    "GET": "get",
    "HEAD": "get",
    "PUT": "update",
    "PATCH": "patch",
    "DELETE": "delete",
}


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """`k8s.io/apiserver/pkg/endpoints/request.RequestInfo`."""

    path: str
    verb: str
    is_resource_request: bool = False
    api_prefix: str = ""
    api_group: str = ""
    api_version: str = ""
    namespace: str = ""
    resource: str = ""
    subresource: str = ""
    name: str = ""
    parts: tuple[str, ...] = ()


REQUEST_INFO_KEY = web.RequestKey("request_info", RequestInfo)


class RequestInfoError(ValueError):
    """The path is under an API prefix but cannot be interpreted."""


@web.middleware
async def request_info_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Stores the request's `RequestInfo` under `REQUEST_INFO_KEY`; 400 if malformed."""
    try:
        request[REQUEST_INFO_KEY] = parse_request_info(request.method, request.path, request.query)
    except RequestInfoError as e:
        raise bad_request(str(e)) from e
    return await handler(request)


def parse_request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Classifies a request. Raises `RequestInfoError` for a malformed resource path."""
    trimmed = path.strip("/")
    segments = trimmed.split("/") if trimmed else []
    non_resource = RequestInfo(path=path, verb=method.lower())
    if len(segments) < 3 or segments[0] not in API_PREFIXES:
        return non_resource
    prefix, rest = segments[0], segments[1:]
    group = ""
    if prefix not in _GROUPLESS_PREFIXES:
        if len(rest) < 3:
            return non_resource
        group, rest = rest[0], rest[1:]
    version, rest = rest[0], rest[1:]

    if rest[0] in _SPECIAL_VERBS:
        if len(rest) < 2:
            raise RequestInfoError(f"unable to determine kind and namespace from url {path}")
        verb, rest = rest[0], rest[1:]
    else:
        verb = _VERB_FOR_METHOD.get(method.upper(), "")

    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in _NAMESPACE_SUBRESOURCES:
            rest = rest[2:]

    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 and verb != "proxy" else ""

    if not name and verb == "get":
        verb = "watch" if _watch_requested(query) else "list"
        name = _name_from_field_selector(query.get("fieldSelector", ""))
    if not name and verb == "delete":
        verb = "deletecollection"

    return RequestInfo(
        path=path,
        verb=verb,
        is_resource_request=True,
        api_prefix=prefix,
        api_group=group,
        api_version=version,
        namespace=namespace,
        resource=resource,
        subresource=subresource,
        name=name,
        parts=tuple(rest),
    )


def _watch_requested(query: Mapping[str, str]) -> bool:
    value = query.get("watch")
    return value is not None and value.lower() not in ("false", "0")


def _name_from_field_selector(selector: str) -> str:
    """The name a field selector requires exactly (`metadata.name=x` or `==x`), if any
    and if it is a valid path segment; "" otherwise. Escaped selectors are ignored."""
    if "\\" in selector:
        return ""
    for term in selector.split(","):
        field, op, value = term.partition("==") if "==" in term else term.partition("=")
        if op and not field.endswith("!") and field.strip() == "metadata.name":
            value = value.strip()
            if value not in ("", ".", "..") and "/" not in value and "%" not in value:
                return value
    return ""
