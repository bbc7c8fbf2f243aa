"""Bad input gets a Kubernetes Status with a 4xx code, changes nothing, and the server
keeps serving."""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from kybernetes.client import load_kubeconfig
from tests.e2e.conftest import Cluster


class Raw:
    """Plain HTTPS requests with the admin credentials, for bodies no client would send."""

    def __init__(self, cluster: Cluster) -> None:
        config = load_kubeconfig(cluster.kubeconfig)
        self.base = config.server
        self.context: ssl.SSLContext = config.ssl_context()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> tuple[int, dict[str, object]]:
        req = urllib.request.Request(self.base + path, data=body, method=method)
        req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.context, timeout=30) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())


@pytest.fixture
def raw(cluster: Cluster) -> Iterator[Raw]:
    yield Raw(cluster)


def cm_path(namespace: str, name: str = "") -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps" + (f"/{name}" if name else "")


CONFIGMAP = json.dumps({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})


@pytest.mark.parametrize(
    ("method", "path", "body", "content_type", "code", "needle"),
    [
        ("POST", "CM", b"{not json", "application/json", 400, "error decoding JSON"),
        ("POST", "CM", b"a: [unclosed", "application/yaml", 400, "error decoding YAML"),
        ("POST", "CM", b"[1, 2]", "application/json", 400, "must be a JSON object"),
        ("POST", "CM", CONFIGMAP.encode(), "text/plain", 415, "unknown format"),
        (
            "POST",
            "CM",
            json.dumps(
                {"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "y"}}
            ).encode(),
            "application/json",
            400,
            "does not match the expected API version",
        ),
        (
            "POST",
            "CM",
            json.dumps({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "y"}}).encode(),
            "application/json",
            400,
            "does not match the expected kind",
        ),
        (
            "POST",
            "CM",
            json.dumps({"kind": "ConfigMap", "metadata": {"name": "y"}, "data": {"k": 1}}).encode(),
            "application/json",
            400,
            "cannot unmarshal number into Go struct field ConfigMap.data of type string",
        ),
        (
            "POST",
            "CM",
            b'{"metadata":{"name":"z"}}' + b" " * (3 * 1024 * 1024),
            "application/json",
            413,
            "",
        ),
        ("GET", "CM?labelSelector=a%20in%20(", None, "application/json", 400, ""),
        (
            "GET",
            "CM?fieldSelector=nope%3D1",
            None,
            "application/json",
            400,
            "field label not supported",
        ),
        (
            "GET",
            "CM?resourceVersion=abc",
            None,
            "application/json",
            400,
            "invalid resource version",
        ),
        ("GET", "CM?continue=garbage", None, "application/json", 400, "continue key is not valid"),
        (
            "GET",
            "/api/v1/namespaces/default/frobs",
            None,
            "application/json",
            404,
            "could not find",
        ),
        ("GET", "/apis/nope.example.com/v1/things", None, "application/json", 404, ""),
        ("PATCH", "CM/x", b"{}", "application/bogus-patch", 415, ""),
    ],
)
def test_bad_requests_get_a_status_and_change_nothing(
    raw: Raw,
    namespace: str,
    method: str,
    path: str,
    body: bytes | None,
    content_type: str,
    code: int,
    needle: str,
) -> None:
    raw.request("POST", cm_path(namespace), CONFIGMAP.encode())
    before = raw.request("GET", cm_path(namespace))[1]
    path = path.replace("CM", cm_path(namespace))
    got_code, status = raw.request(method, path, body, content_type)
    assert got_code == code, status
    assert status["kind"] == "Status"
    assert status["status"] == "Failure"
    assert status["code"] == code
    assert needle in str(status["message"])
    after = raw.request("GET", cm_path(namespace))[1]
    assert after["items"] == before["items"]  # type: ignore[index]


@pytest.mark.parametrize(
    ("metadata", "code"),
    [
        ({"finalizers": [None]}, 422),  # Go reads null as "", an invalid finalizer name
        ({"labels": {"a": None}}, 201),  # "" is a valid label value
        ({"ownerReferences": [None]}, 422),  # an empty reference misses its fields
    ],
)
def test_nulls_in_typed_lists_and_maps_are_zero_values(
    raw: Raw, namespace: str, metadata: dict[str, object], code: int
) -> None:
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "n-", **metadata}}
    got_code, _ = raw.request("POST", cm_path(namespace), json.dumps(body).encode())
    assert got_code == code
