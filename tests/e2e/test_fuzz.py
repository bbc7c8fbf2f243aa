"""Fuzzing the REST API: no request gets a 5xx, and every 4xx answer is a `Status`.

hypothesis sends random requests (`fuzz_requests`, `fuzzing`) to the session's real
`kyb server`, in a namespace of their own and against every served resource, a custom
resource of the fuzzer's own included. Watches carry `timeoutSeconds=1`; a watch's
stream is read to its end and its ERROR events are checked too. A path that puts a
cluster-scoped resource inside a namespace must be 404. Runs are deterministic
(`derandomize`) and bounded (`max_examples`).

The 5xx answers kube-apiserver itself gives to well-formed requests are allowed (see
`_KUBE_APISERVER_5XX`). `test_requests_that_once_failed` keeps the requests the fuzzer
found failing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, note, settings
from kubernetes import client

from tests.e2e.conftest import Cluster
from tests.e2e.fuzz_requests import FUZZ_NAMESPACE, Request, Requests, Server, served_resources

_KUBE_APISERVER_5XX = {
    (504, "Timeout"): "Too large resource version",
    (500, ""): "failed to create typed patch object",
}
"""The 5xx answers kube-apiserver itself gives to well-formed requests (code, reason:
message prefix): a resourceVersion from the future, and an applied configuration that
structured-merge-diff cannot type (duplicate entries of a set or map list)."""


def _kube_apiserver_5xx(code: int, answer: Any) -> bool:
    if not isinstance(answer, dict):
        return False
    prefix = _KUBE_APISERVER_5XX.get((code, answer.get("reason", "")))
    return prefix is not None and str(answer.get("message", "")).startswith(prefix)


def check(request: Request, code: int, body: bytes) -> None:
    """The response is not a 5xx, and a 4xx one carries a matching `Status`."""
    note(f"answer {code}: {body[:500]!r}")
    if request.misplaced:
        assert code == 404, "a cluster-scoped resource was found inside a namespace"
    if code < 400 and not request.watch:
        return
    if request.watch and code == 200:
        for line in body.splitlines():
            event = json.loads(line)
            if isinstance(event, dict) and event.get("type") == "ERROR":
                assert event["object"]["code"] < 500, event
        return
    answer = json.loads(body)
    assert code < 500 or _kube_apiserver_5xx(code, answer), answer
    assert isinstance(answer, dict), answer
    assert answer.get("kind") == "Status", answer
    assert answer.get("status") == "Failure", answer
    assert answer.get("code") == code, answer


_WIDGET_SCHEMA = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer"},
                "size": {"x-kubernetes-int-or-string": True},
                "tags": {
                    "type": "array",
                    "items": {"type": "string"},
                    "x-kubernetes-list-type": "set",
                },
                "ports": {
                    "type": "array",
                    "x-kubernetes-list-type": "map",
                    "x-kubernetes-list-map-keys": ["name"],
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}, "port": {"type": "integer"}},
                    },
                },
                "extra": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            },
        },
        "status": {"type": "object", "properties": {"replicas": {"type": "integer"}}},
    },
}
_WIDGET_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.fuzz.kybernetes.io"},
    "spec": {
        "group": "fuzz.kybernetes.io",
        "scope": "Namespaced",
        "names": {"plural": "widgets", "kind": "Widget", "shortNames": ["fzw"]},
        "versions": [
            {
                "name": "v1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": _WIDGET_SCHEMA},
                "subresources": {
                    "status": {},
                    "scale": {
                        "specReplicasPath": ".spec.replicas",
                        "statusReplicasPath": ".status.replicas",
                    },
                },
            },
            {
                "name": "v1beta1",
                "served": True,
                "storage": False,
                "schema": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "x-kubernetes-preserve-unknown-fields": True,
                    }
                },
            },
        ],
    },
}
"""A custom resource of the fuzzer's own: typed, list-typed, int-or-string and
schemaless fields, status and scale subresources, a second untyped version."""


@pytest.fixture(scope="module")
def fuzz_namespace(cluster: Cluster) -> Iterator[str]:
    """The fuzzer's namespace, and its custom resource definition."""
    api = cluster.api_client()
    core, extensions = client.CoreV1Api(api), client.ApiextensionsV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=FUZZ_NAMESPACE)))
    extensions.create_custom_resource_definition(_WIDGET_CRD)
    cluster.kubectl(
        "wait", "--for=condition=Established", "crd/widgets.fuzz.kybernetes.io", "--timeout=20s"
    )
    yield FUZZ_NAMESPACE
    extensions.delete_custom_resource_definition("widgets.fuzz.kybernetes.io")
    core.delete_namespace(FUZZ_NAMESPACE)


def test_no_request_gets_a_5xx_and_every_4xx_is_a_status(
    cluster: Cluster, fuzz_namespace: str
) -> None:
    """Random requests against every served resource (see the module docstring)."""
    server = Server(cluster)
    requests = Requests(served_resources(server), server)

    @settings(
        max_examples=2000,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(requests.strategy())
    def one(request: Request) -> None:
        if request.seed is not None:
            server.create(*request.seed)
        response = server.send(request)
        check(request, response.status, response.data)

    one()
    ready = server.pool.request("GET", server.base + "/readyz", headers=server.auth)
    assert ready.data == b"ok"


_CM = f"/api/v1/namespaces/{FUZZ_NAMESPACE}/configmaps"
_CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
_WIDGETS = f"/apis/fuzz.kybernetes.io/v1beta1/namespaces/{FUZZ_NAMESPACE}/widgets"
_LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n".encode()
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)
_HELD = (_CM, b'{"metadata": {"name": "held", "finalizers": ["fuzz.kybernetes.io/hold"]}}')
_BARE = (_CM, b'{"metadata": {"name": "bare"}}')  # no apiVersion, no kind
_APPLIED = b"{apiVersion: v1, kind: ConfigMap, metadata: {name: bare}, data: {a: b}}"
_WIDGET = (_WIDGETS, b'{"metadata": {"name": "deep"}}')


def _deep_widget(depth: int) -> bytes:
    return b'{"metadata": {"name": "deep"}, "spec": %s}' % (b"[" * depth + b"]" * depth)


@pytest.mark.parametrize(
    ("setup", "method", "path", "content_type", "body", "code"),
    [
        (None, "POST", _CM, "application/yaml", b"- " * 200_000, 400),
        (None, "POST", _CM, "application/yaml", b"[" * 5_000, 400),
        (None, "POST", _CM, "application/yaml", b"metadata: &m {name: x, labels: *m}\n", 400),
        (None, "POST", _CM, "application/yaml", _LAUGHS, 400),
        # Deep enough to overflow libyaml's C stack: this one killed the server.
        (
            None,
            "PATCH",
            f"{_CM}/x?fieldManager=f",
            "application/apply-patch+yaml",
            b"- " * 200_000,
            400,
        ),
        (None, "GET", f"{_CM}?resourceVersion=%C2%B2", None, None, 400),
        (None, "GET", f"{_CM}?limit=%C2%B2", None, None, 400),
        (None, "GET", f"{_CM}?watch=1&timeoutSeconds=%C2%B2", None, None, 400),
        (None, "POST", _CM, "application/json", b'{"metadata": {"name": null}}', 422),
        (None, "DELETE", f"{_CM}/x", "application/json", b'{"preconditions": [1]}', 400),
        (None, "DELETE", f"{_CM}/x?gracePeriodSeconds=99999999999999999999", None, None, 400),
        (_HELD, "DELETE", f"{_CM}/held?gracePeriodSeconds=9223372036854775807", None, None, 202),
        (
            _BARE,
            "PATCH",
            f"{_CM}/bare?fieldManager=f",
            "application/apply-patch+yaml",
            _APPLIED,
            200,
        ),
        (
            None,
            "POST",
            f"{_CRDS}?dryRun=All",
            "application/json",
            b'{"spec": {"versions": [null]}}',
            422,
        ),
        # Schemaless custom resources let any nesting through to code that recurses.
        (None, "POST", _WIDGETS, "application/json", _deep_widget(300), 400),
        (_WIDGET, "PUT", f"{_WIDGETS}/deep", "application/json", _deep_widget(1_000), 400),
        (
            _WIDGET,
            "PATCH",
            f"{_WIDGETS}/deep",
            "application/merge-patch+json",
            _deep_widget(900),
            400,
        ),
        (
            _WIDGET,
            "PATCH",
            f"{_WIDGETS.replace('v1beta1', 'v1')}/deep/scale?fieldManager=f",
            "application/apply-patch+yaml",
            b"{}",
            415,
        ),
        (None, "GET", f"/api/v1/namespaces/{FUZZ_NAMESPACE}/nodes", None, None, 404),
        (None, "DELETE", f"/api/v1/namespaces/{FUZZ_NAMESPACE}/nodes?dryRun=All", None, None, 404),
    ],
)
def test_requests_that_once_failed(
    cluster: Cluster,
    fuzz_namespace: str,
    setup: tuple[str, bytes] | None,
    method: str,
    path: str,
    content_type: str | None,
    body: bytes | None,
    code: int,
) -> None:
    """Requests the fuzzer found a 5xx answer (or a crash, or a wrong 200) for, each
    after creating the object it needs (`setup`)."""
    server = Server(cluster)
    if setup is not None:
        server.create(*setup)
    headers = {**server.auth, **({"Content-Type": content_type} if content_type else {})}
    response = server.pool.request(method, server.base + path, body=body, headers=headers)
    assert response.status == code, response.data
    if code >= 400:
        answer = json.loads(response.data)
        assert (answer["kind"], answer["code"]) == ("Status", code), answer
