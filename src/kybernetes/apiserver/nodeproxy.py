"""pods/log, pods/exec, pods/attach, pods/portforward and nodes/proxy: the subresources
the API server serves by proxying to the pod's kubelet.

As kube-apiserver (pkg/registry/core/pod/strategy.go LogLocation, ExecLocation,
AttachLocation, PortForwardLocation; node/strategy.go ResourceLocation):
- The pod is read (404 if missing); the container defaults to the pod's only
  container or its `kubectl.kubernetes.io/default-container` annotation, else
  400 "a container name must be specified for pod X, choose one of: [a b]"; an unknown
  container is 400 "container c is not valid for pod X".
- pods/log query parameters are validated as PodLogOptions (422 Invalid); a pod with
  no node yet has an empty log; a container still waiting is 400 "container "c" in pod
  "X" is waiting to start: REASON" (the kubelet's words).
- exec/attach/portforward on a pod with no node are 400 "pod X does not have a host
  assigned".
- The kubelet is found from the Node: the first InternalIP (then ExternalIP, Hostname)
  of status.addresses, and status.daemonEndpoints.kubeletEndpoint.Port (10250).
Then `kubeletproxy` streams plain requests and splices upgrades.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from yarl import URL

from . import kubeletproxy, status
from .app import CONFIG_KEY
from .pki import PKI
from .registry import Registry
from .requestinfo import RequestInfo

SERVED = frozenset(
    [*(("pods", sub) for sub in ("log", "exec", "attach", "portforward")), ("nodes", "proxy")]
)
DEFAULT_CONTAINER_ANNOTATION = "kubectl.kubernetes.io/default-container"
_ADDRESS_PREFERENCE = ("InternalIP", "ExternalIP", "Hostname")
_PATH_FOR = {"exec": "exec", "attach": "attach", "portforward": "portForward"}
_STREAM_PARAMS = ("stdin", "stdout", "stderr", "tty")
_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def handles(request_info: RequestInfo) -> bool:
    """Whether this module serves the request (a core/v1 proxied subresource)."""
    return (
        request_info.api_group == ""
        and bool(request_info.name)
        and (request_info.resource, request_info.subresource) in SERVED
    )


async def serve(
    request: web.Request,
    request_info: RequestInfo,
    registry_for: Callable[[str, str, str], Registry],
) -> web.StreamResponse:
    """Answers a proxied subresource request (see module docstring)."""
    resource, sub = request_info.resource, request_info.subresource
    allowed = ("GET",) if sub == "log" else ("GET", "POST")
    if sub != "proxy" and request.method not in allowed:
        verb = request_info.verb
        raise status.method_not_allowed(f"{resource}/{sub}", verb)
    context = kubeletproxy.kubelet_ssl_context(PKI.at(request.app[CONFIG_KEY].pki_dir))
    nodes = registry_for("", "v1", "nodes")
    if resource == "nodes":
        base = await _kubelet_url(nodes, request_info.name)
        rest = "/".join(request_info.parts[3:])
        url = base.with_path("/" + rest, encoded=False).with_query(request.query)
        return await _proxy(request, url, context)
    pods = registry_for("", "v1", "pods")
    pod = (await pods.get(request_info.namespace, request_info.name)).obj
    container = _container(pod, request.query.get("container", ""))
    node = (pod.get("spec") or {}).get("nodeName") or ""
    name, namespace = request_info.name, request_info.namespace
    if sub == "log":
        options = _log_query(request.query, name)
        if not node:
            return web.Response(body=b"", content_type="text/plain")
        _check_started(pod, container)
        base = await _kubelet_url(nodes, node)
        path = f"/containerLogs/{_seg(namespace)}/{_seg(name)}/{_seg(container)}"
        url = base.with_path(path, encoded=True).with_query(options)
        return await kubeletproxy.proxy_http(request, url, context)
    if not node:
        raise status.bad_request(f"pod {name} does not have a host assigned")
    base = await _kubelet_url(nodes, node)
    if sub == "portforward":
        path = f"/portForward/{_seg(namespace)}/{_seg(name)}"
        query: list[tuple[str, str]] = [(k, v) for k, v in request.query.items() if k == "ports"]
    else:
        path = f"/{_PATH_FOR[sub]}/{_seg(namespace)}/{_seg(name)}/{_seg(container)}"
        query = _stream_query(request.query, sub)
    return await _proxy(request, base.with_path(path, encoded=True).with_query(query), context)


async def _proxy(request: web.Request, url: URL, context: Any) -> web.StreamResponse:
    if "upgrade" in request.headers.get("Connection", "").lower():
        return await kubeletproxy.proxy_upgrade(request, url, context)
    return await kubeletproxy.proxy_http(request, url, context)


def _seg(value: str) -> str:
    return quote(value, safe="")


async def _kubelet_url(nodes: Registry, node_name: str) -> URL:
    node = (await nodes.get("", node_name)).obj
    node_status = node.get("status") or {}
    addresses = node_status.get("addresses") or []
    host = next(
        (
            a.get("address")
            for kind in _ADDRESS_PREFERENCE
            for a in addresses
            if a.get("type") == kind and a.get("address")
        ),
        None,
    )
    if host is None:
        raise status.bad_request(f"node {node_name} has no known address")
    endpoint = (node_status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}
    port = int(endpoint.get("Port") or 10250)
    return URL.build(scheme="https", host=host, port=port)


def _container_names(pod: dict[str, Any]) -> list[str]:
    spec = pod.get("spec") or {}
    return [
        c.get("name", "")
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in spec.get(key) or []
    ]


def _container(pod: dict[str, Any], requested: str) -> str:
    """validateContainer, with the default-container annotation honoured."""
    name = pod["metadata"]["name"]
    names = _container_names(pod)
    if requested:
        if requested not in names:
            raise status.bad_request(f"container {requested} is not valid for pod {name}")
        return requested
    containers = (pod.get("spec") or {}).get("containers") or []
    annotated = (pod["metadata"].get("annotations") or {}).get(DEFAULT_CONTAINER_ANNOTATION)
    if annotated and annotated in names:
        return str(annotated)
    if len(containers) == 1:
        return str(containers[0].get("name", ""))
    if not containers:
        raise status.bad_request(f"a container name must be specified for pod {name}")
    raise status.bad_request(
        f"a container name must be specified for pod {name}, choose one of: [{' '.join(names)}]"
    )


def _check_started(pod: dict[str, Any], container: str) -> None:
    pod_status = pod.get("status") or {}
    for key in ("initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses"):
        for entry in pod_status.get(key) or []:
            if entry.get("name") != container:
                continue
            waiting = (entry.get("state") or {}).get("waiting")
            if waiting is not None and not entry.get("lastState", {}).get("terminated"):
                reason = waiting.get("reason") or "ContainerCreating"
                raise status.bad_request(
                    f'container "{container}" in pod "{pod["metadata"]["name"]}" '
                    f"is waiting to start: {reason}"
                )


def _int(query: Any, key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        raise status.bad_request(f'strconv.ParseInt: parsing "{value}": invalid syntax') from None


def _bool(query: Any, key: str) -> bool:
    value = query.get(key)
    if value in (None, "", *_TRUE, *_FALSE):
        return value in _TRUE
    raise status.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def _log_query(query: Any, name: str) -> list[tuple[str, str]]:
    """PodLogOptions from the query, validated; the kubelet's query."""
    tail, limit, since = _int(query, "tailLines"), _int(query, "limitBytes"), None
    since_seconds = _int(query, "sinceSeconds")
    if query.get("sinceTime"):
        try:
            since = datetime.fromisoformat(query["sinceTime"].replace("Z", "+00:00"))
        except ValueError:
            raise status.bad_request(f'parsing time "{query["sinceTime"]}" as RFC3339') from None
    causes = []
    if tail is not None and tail < 0:
        causes.append(("tailLines", f"Invalid value: {tail}: must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(("limitBytes", f"Invalid value: {limit}: must be greater than 0"))
    if since_seconds is not None and since is not None:
        causes.append(
            ("sinceSeconds", "Forbidden: at most one of sinceTime or sinceSeconds may be specified")
        )
    elif since_seconds is not None and since_seconds < 1:
        causes.append(("sinceSeconds", f"Invalid value: {since_seconds}: must be greater than 0"))
    if causes:
        reasons = {"I": "FieldValueInvalid", "F": "FieldValueForbidden"}
        raise status.invalid(
            "PodLogOptions",
            name,
            [status.StatusCause(reasons[text[0]], text, path) for path, text in causes],
        )
    out: list[tuple[str, str]] = []
    for key in ("follow", "previous", "timestamps"):
        if _bool(query, key):
            out.append((key, "true"))
    for key, number in (
        ("tailLines", tail),
        ("limitBytes", limit),
        ("sinceSeconds", since_seconds),
    ):
        if number is not None:
            out.append((key, str(number)))
    if since is not None:
        out.append(("sinceTime", query["sinceTime"]))
    return out


def _stream_query(query: Any, sub: str) -> list[tuple[str, str]]:
    """PodExecOptions / PodAttachOptions as the kubelet takes them."""
    flags = {key: _bool(query, key) for key in _STREAM_PARAMS}
    if not (flags["stdin"] or flags["stdout"] or flags["stderr"]):
        raise status.bad_request("you must specify at least 1 of stdin, stdout, stderr")
    out = [(key, "1") for key, on in flags.items() if on]
    if sub == "exec":
        commands = query.getall("command", [])
        if not commands:
            raise status.bad_request("you must specify at least one command for the container")
        out += [("command", c) for c in commands]
    return out
