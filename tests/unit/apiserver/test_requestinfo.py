"""parse_request_info classifies requests as Kubernetes' RequestInfoFactory does."""

from __future__ import annotations

import pytest

from kybernetes.apiserver.requestinfo import RequestInfoError, parse_request_info

CASES = [
    # method, path, query, (verb, group, version, namespace, resource, subresource, name)
    ("GET", "/api/v1/namespaces", {}, ("list", "", "v1", "", "namespaces", "", "")),
    ("GET", "/api/v1/namespaces/other", {}, ("get", "", "v1", "other", "namespaces", "", "other")),
    ("GET", "/api/v1/namespaces/default/pods", {}, ("list", "", "v1", "default", "pods", "", "")),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "true"},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods",
        {"watch": "0"},
        ("list", "", "v1", "default", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/pods",
        {"fieldSelector": "metadata.name=web"},
        ("list", "", "v1", "", "pods", "", "web"),
    ),
    (
        "GET",
        "/api/v1/pods",
        {"fieldSelector": "metadata.name!=web"},
        ("list", "", "v1", "", "pods", "", ""),
    ),
    (
        "GET",
        "/api/v1/namespaces/default/pods/web/log",
        {},
        ("get", "", "v1", "default", "pods", "log", "web"),
    ),
    (
        "PUT",
        "/api/v1/namespaces/default/status",
        {},
        ("update", "", "v1", "default", "namespaces", "status", "default"),
    ),
    (
        "PUT",
        "/api/v1/namespaces/ns/finalize",
        {},
        ("update", "", "v1", "ns", "namespaces", "finalize", "ns"),
    ),
    (
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        {},
        ("create", "apps", "v1", "default", "deployments", "", ""),
    ),
    (
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d/scale",
        {},
        ("patch", "apps", "v1", "default", "deployments", "scale", "d"),
    ),
    (
        "DELETE",
        "/apis/apps/v1/namespaces/default/deployments",
        {},
        ("deletecollection", "apps", "v1", "default", "deployments", "", ""),
    ),
    ("DELETE", "/api/v1/nodes/n1", {}, ("delete", "", "v1", "", "nodes", "", "n1")),
    (
        "GET",
        "/api/v1/watch/namespaces/default/pods",
        {},
        ("watch", "", "v1", "default", "pods", "", ""),
    ),
    ("GET", "/api/v1/proxy/nodes/n1/stats/summary", {}, ("proxy", "", "v1", "", "nodes", "", "n1")),
]


@pytest.mark.parametrize(("method", "path", "query", "expected"), CASES)
def test_resource_requests(
    method: str, path: str, query: dict[str, str], expected: tuple[str, ...]
) -> None:
    info = parse_request_info(method, path, query)
    assert info.is_resource_request
    got = (
        info.verb,
        info.api_group,
        info.api_version,
        info.namespace,
        info.resource,
        info.subresource,
        info.name,
    )
    assert got == expected


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api"),
        ("GET", "/api/v1"),
        ("GET", "/apis/apps/v1"),
        ("POST", "/readyz/store"),
        ("GET", "/"),
        ("GET", "/openapi/v2"),
    ],
)
def test_non_resource_requests(method: str, path: str) -> None:
    info = parse_request_info(method, path, {})
    assert not info.is_resource_request
    assert (info.verb, info.path) == (method.lower(), path)


def test_watch_prefix_without_resource_is_an_error() -> None:
    with pytest.raises(RequestInfoError):
        parse_request_info("GET", "/api/v1/watch", {})
