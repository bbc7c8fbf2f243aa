"""Kubernetes protobuf bodies: real kubectl requests decode to Go's own JSON, our
encoding reads back in kubectl, and hand-built objects of many kinds round-trip."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from google.protobuf import descriptor_pb2  # type: ignore[import-untyped, unused-ignore]

from kybernetes.api import protobuf
from kybernetes.api.protobuf import PROTOBUF, ProtobufError, decode, encode
from kybernetes.api.schema import definitions

KUBECTL = shutil.which("kubectl")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")

# --- real kubectl against a capture server --------------------------------------------

_RESOURCES = {
    "v1": [
        ("configmaps", "ConfigMap", True),
        ("namespaces", "Namespace", False),
        ("pods", "Pod", True),
        ("resourcequotas", "ResourceQuota", True),
        ("secrets", "Secret", True),
        ("serviceaccounts", "ServiceAccount", True),
        ("services", "Service", True),
    ],
    "apps/v1": [("deployments", "Deployment", True)],
    "batch/v1": [("jobs", "Job", True), ("cronjobs", "CronJob", True)],
    "networking.k8s.io/v1": [("ingresses", "Ingress", True)],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget", True)],
    "rbac.authorization.k8s.io/v1": [
        ("clusterroles", "ClusterRole", False),
        ("rolebindings", "RoleBinding", True),
        ("roles", "Role", True),
    ],
    "scheduling.k8s.io/v1": [("priorityclasses", "PriorityClass", False)],
}


def _discovery(path: str) -> Any:
    """The minimal discovery documents kubectl reads before typed commands."""
    if path == "/version":
        return {"major": "1", "minor": "32", "gitVersion": "v1.32.0"}
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    groups = [gv for gv in _RESOURCES if "/" in gv]
    if path == "/apis":
        return {
            "kind": "APIGroupList",
            "apiVersion": "v1",
            "groups": [
                {
                    "name": gv.partition("/")[0],
                    "versions": [{"groupVersion": gv, "version": gv.partition("/")[2]}],
                    "preferredVersion": {"groupVersion": gv, "version": gv.partition("/")[2]},
                }
                for gv in groups
            ],
        }
    group_version = "v1" if path == "/api/v1" else path.removeprefix("/apis/")
    if group_version not in _RESOURCES:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": namespaced,
                "kind": kind,
                "verbs": ["create", "get", "list"],
            }
            for plural, kind, namespaced in _RESOURCES[group_version]
        ],
    }


class CaptureServer:
    """Answers discovery, records every request body, and answers a protobuf POST
    with our re-encoding of what we decoded from it."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, bytes]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.method == "GET":
            document = _discovery(request.path)
            if document is None:
                return web.json_response({"kind": "Status", "code": 404}, status=404)
            return web.json_response(document)
        body = await request.read()
        self.bodies.append((request.content_type, body))
        return web.Response(status=201, body=encode(decode(body)), content_type=PROTOBUF)


@pytest.fixture
async def capture(tmp_path: Path) -> AsyncIterator[tuple[CaptureServer, Path]]:
    server = CaptureServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        kubeconfig = tmp_path / "kubeconfig.yaml"
        kubeconfig.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
            f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
            "users: [{name: u, user: {token: t}}]\n"
            "contexts: [{name: c, context: {cluster: c, user: u, namespace: default}}]\n"
        )
        yield server, kubeconfig
    finally:
        await runner.cleanup()


async def kubectl(kubeconfig: Path, *args: str) -> str:
    assert KUBECTL is not None
    process = await asyncio.create_subprocess_exec(
        KUBECTL,
        f"--kubeconfig={kubeconfig}",
        "--request-timeout=20s",
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={"PATH": os.environ.get("PATH", ""), "HOME": str(kubeconfig.parent)},
    )
    try:
        async with asyncio.timeout(60):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    return out.decode()


@needs_kubectl
@pytest.mark.parametrize(
    "command",
    [
        ["create", "configmap", "x", "--from-literal=a=b", "--from-literal=empty="],
        ["create", "deployment", "web", "--image=nginx", "--replicas=2", "--port=80"],
        ["create", "secret", "generic", "s", "--from-literal=k=v", "--type=Opaque"],
        ["create", "namespace", "n"],
        ["create", "service", "clusterip", "svc", "--tcp=80:8080"],
        ["create", "service", "nodeport", "np", "--tcp=80:http", "--node-port=30080"],
        ["create", "serviceaccount", "sa"],
        ["create", "role", "r", "--verb=get,list", "--resource=pods"],
        ["create", "rolebinding", "rb", "--role=r", "--user=alice", "--serviceaccount=ns:sa"],
        ["create", "clusterrole", "cr", "--verb=get", "--non-resource-url=/logs/*"],
        ["create", "job", "j", "--image=busybox", "--", "echo", "hi"],
        ["create", "cronjob", "cj", "--image=busybox", "--schedule=*/5 * * * *", "--", "date"],
        ["create", "quota", "q", "--hard=cpu=1,memory=1Gi,pods=10"],
        ["create", "pdb", "p", "--selector=app=web", "--min-available=50%"],
        ["create", "priorityclass", "pc", "--value=1000", "--description=high"],
        ["create", "ingress", "ing", "--rule=foo.com/bar=svc1:8080,tls=cert", "--class=nginx"],
    ],
    ids=lambda command: "-".join(command[1:3]),
)
async def test_kubectl_bodies_decode_to_gos_json_and_our_answers_read_back(
    capture: tuple[CaptureServer, Path], command: list[str]
) -> None:
    server, kubeconfig = capture
    end = command.index("--") if "--" in command else len(command)
    dry_run = [*command[:end], "--dry-run=client", "-o", "json", *command[end:]]
    go_json = json.loads(await kubectl(kubeconfig, *dry_run))

    printed = json.loads(await kubectl(kubeconfig, *command[:end], "-o", "json", *command[end:]))

    [(content_type, body)] = server.bodies
    assert content_type == PROTOBUF
    assert decode(body) == go_json
    assert printed == go_json  # kubectl decoded our protobuf answer to the same object


# --- round trips of hand-built objects ------------------------------------------------

TIME = "2024-05-06T07:08:09Z"
POD: dict[str, Any] = {
    "kind": "Pod",
    "apiVersion": "v1",
    "metadata": {
        "name": "p",
        "namespace": "default",
        "uid": "1f0c2d9e-0000-4000-8000-000000000001",
        "resourceVersion": "42",
        "generation": 3,
        "creationTimestamp": TIME,
        "deletionTimestamp": "2024-05-06T08:00:00Z",
        "deletionGracePeriodSeconds": 0,
        "labels": {"app": "web", "empty": ""},
        "annotations": {"a": "b"},
        "finalizers": ["example.com/f"],
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "rs",
                "uid": "u",
                "controller": True,
            }
        ],
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Update",
                "apiVersion": "v1",
                "time": TIME,
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {".": {}, "f:app": {}}}},
            }
        ],
    },
    "spec": {
        "volumes": [
            {"name": "cm", "configMap": {"name": "config", "defaultMode": 420, "optional": False}},
            {"name": "scratch", "emptyDir": {"sizeLimit": "1Gi"}},
        ],
        "containers": [
            {
                "name": "c",
                "image": "nginx",
                "ports": [{"containerPort": 80, "protocol": "TCP"}],
                "env": [
                    {"name": "A", "value": "b"},
                    {
                        "name": "S",
                        "valueFrom": {"secretKeyRef": {"name": "secret", "key": "k"}},
                    },
                ],
                "resources": {
                    "limits": {"cpu": "500m", "memory": "128Mi"},
                    "requests": {"cpu": "1"},
                },
                "livenessProbe": {
                    "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
                    "periodSeconds": 10,
                },
                "readinessProbe": {"tcpSocket": {"port": 8080}, "failureThreshold": 1},
            }
        ],
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "automountServiceAccountToken": False,
    },
    "status": {"phase": "Running", "startTime": TIME, "podIPs": [{"ip": "10.0.0.1"}]},
}

ROUND_TRIPS: list[dict[str, Any]] = [
    POD,
    {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"name": "web", "creationTimestamp": None},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"creationTimestamp": None}, "spec": {}},
            "strategy": {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0}},
        },
        "status": {},
    },
    {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"name": "s"},
        "data": {"bin": base64.b64encode(bytes(range(256))).decode(), "empty": ""},
        "type": "Opaque",
    },
    {
        "kind": "Event",
        "apiVersion": "v1",
        "metadata": {"name": "e.1"},
        "involvedObject": {"kind": "Pod", "name": "p", "apiVersion": "v1"},
        "eventTime": "2024-05-06T07:08:09.123456Z",
        "firstTimestamp": TIME,
        "count": 2,
        "source": {},
    },
    {
        "kind": "ControllerRevision",
        "apiVersion": "apps/v1",
        "metadata": {"name": "rev"},
        "data": {"spec": {"template": {"spec": {"containers": [{"name": "c"}]}}}, "n": 1.5},
        "revision": 7,
    },
    {
        "kind": "CertificateSigningRequest",
        "apiVersion": "certificates.k8s.io/v1",
        "metadata": {"name": "csr"},
        "spec": {
            "request": base64.b64encode(b"-----BEGIN CERTIFICATE REQUEST-----").decode(),
            "signerName": "kubernetes.io/kube-apiserver-client",
            "usages": ["client auth"],
            "extra": {"scopes": ["a", "b"], "none": []},
        },
        "status": {},
    },
    {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "apps/v1",
        "resources": [
            {
                "name": "deployments",
                "singularName": "",
                "namespaced": True,
                "kind": "Deployment",
                "verbs": ["get", "list"],
            }
        ],
    },
    {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'pods "x" not found',
        "reason": "NotFound",
        "details": {"name": "x", "kind": "pods", "causes": [{"reason": "FieldValueInvalid"}]},
        "code": 404,
    },
    {"kind": "DeleteOptions", "apiVersion": "apps/v1", "propagationPolicy": "Foreground"},
    {"kind": "DeleteOptions", "apiVersion": "meta.k8s.io/v1", "gracePeriodSeconds": 0},
    {
        "kind": "MutatingWebhookConfiguration",
        "apiVersion": "admissionregistration.k8s.io/v1",
        "metadata": {"name": "hook"},
        "webhooks": [
            {
                "name": "hook.example.com",
                "clientConfig": {"url": "https://127.0.0.1/"},
                "rules": [
                    {
                        "operations": ["CREATE"],
                        "apiGroups": [""],
                        "apiVersions": ["v1"],
                        "resources": ["pods"],
                        "scope": "*",
                    }
                ],
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
            }
        ],
    },
    {
        "kind": "ValidatingAdmissionPolicy",
        "apiVersion": "admissionregistration.k8s.io/v1",
        "metadata": {"name": "vap"},
        "spec": {
            "variables": [{"name": "n", "expression": "object.metadata.name"}],
            "validations": [{"expression": "true"}],
        },
        "status": {},
    },
    {
        "kind": "ValidatingAdmissionPolicyBinding",
        "apiVersion": "admissionregistration.k8s.io/v1",
        "metadata": {"name": "b"},
        "spec": {
            "policyName": "vap",
            "matchResources": {
                "resourceRules": [
                    {"resourceNames": ["x"], "operations": ["*"], "apiGroups": ["apps"]}
                ]
            },
        },
    },
    {
        "kind": "IngressClass",
        "apiVersion": "networking.k8s.io/v1",
        "metadata": {"name": "nginx"},
        "spec": {"parameters": {"apiGroup": "k8s.example.com", "kind": "P", "name": "p"}},
    },
    {
        "kind": "TokenRequest",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"name": "sa"},
        "spec": {
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "p", "uid": "u-1"},
        },
        "status": {"token": "", "expirationTimestamp": None},
    },
    {
        "kind": "PersistentVolume",
        "apiVersion": "v1",
        "metadata": {"name": "pv"},
        "spec": {
            "capacity": {"storage": "1Gi"},
            "hostPath": {"path": "/data"},
            "accessModes": ["ReadWriteOnce"],
        },
        "status": {},
    },
]


@pytest.mark.parametrize("obj", ROUND_TRIPS, ids=lambda obj: f"{obj['apiVersion']}-{obj['kind']}")
def test_encode_then_decode_gives_back_the_object(obj: dict[str, Any]) -> None:
    body = encode(obj)
    assert body.startswith(protobuf.MAGIC)
    assert decode(body) == obj
    assert encode(decode(body)) == body


def test_special_types_on_the_wire() -> None:
    proto = protobuf._message_class("v1", "Pod")()
    proto.ParseFromString(_raw(encode(POD)))
    assert proto.metadata.creationTimestamp.seconds == 1714979289
    assert proto.metadata.generation == 3
    volume = proto.spec.volumes[0]
    assert volume.volumeSource.configMap.localObjectReference.name == "config"
    probe = proto.spec.containers[0].livenessProbe
    assert (probe.handler.httpGet.port.type, probe.handler.httpGet.port.strVal) == (1, "http")
    assert proto.spec.containers[0].resources.limits["cpu"].string == "500m"
    fields = json.loads(proto.metadata.managedFields[0].fieldsV1.Raw)
    assert fields == POD["metadata"]["managedFields"][0]["fieldsV1"]


def test_time_offsets_and_fractions_are_normalised_to_utc() -> None:
    event = {"kind": "Event", "apiVersion": "v1", "metadata": {"name": "e"}, "source": {}}
    out = decode(encode({**event, "firstTimestamp": "2024-05-06T09:08:09.999+02:00"}))
    assert out["firstTimestamp"] == TIME
    out = decode(encode({**event, "eventTime": "2024-05-06T07:08:09.1234567Z"}))
    assert out["eventTime"] == "2024-05-06T07:08:09.123456Z"


def test_zero_value_fields_are_dropped_unless_go_always_writes_them() -> None:
    proto = protobuf._message_class("v1", "Service")()
    proto.metadata.name = "s"
    proto.metadata.generation = 0  # a Go value field: written even when zero
    port = proto.spec.ports.add()
    port.port = 0  # `json:"port"`, without omitempty
    port.protocol = ""
    out = decode(_body("v1", "Service", proto))
    assert out["metadata"] == {"name": "s"}
    assert out["spec"]["ports"] == [{"port": 0}]


def test_raw_extension_may_hold_a_nested_protobuf_body() -> None:
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "p"}, "spec": {}}
    event = {"kind": "WatchEvent", "apiVersion": "v1", "type": "ADDED", "object": encode(pod)}
    assert decode(encode(event)) == {**event, "object": pod}


# --- errors -----------------------------------------------------------------------


def test_decode_refuses_a_body_without_the_magic() -> None:
    with pytest.raises(ProtobufError, match=r"expected prefix \[107 56 115 0\]"):
        decode(b'{"kind": "Pod"}')


def test_decode_refuses_a_truncated_body() -> None:
    body = encode(POD)
    with pytest.raises(ProtobufError, match="truncated or malformed"):
        decode(body[:-5])


def test_decode_refuses_an_unknown_kind() -> None:
    body = encode({"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"name": "x"}})
    renamed = body.replace(b"ConfigMap", b"ConfigMop")
    with pytest.raises(ProtobufError, match='no kind "ConfigMop" is registered for version "v1"'):
        decode(renamed)
    with pytest.raises(ProtobufError, match="names no kind"):
        decode(protobuf.MAGIC)


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ({"kind": "Widget", "apiVersion": "example.com/v1"}, 'no kind "Widget"'),
        ({"kind": "DeleteOptions", "apiVersion": "example.com/v1"}, "no kind"),
        ({"apiVersion": "v1"}, "apiVersion and kind"),
        ({"kind": "ConfigMap", "apiVersion": "v1", "extra": 1}, "has no field 'extra'"),
        ({"kind": "ConfigMap", "apiVersion": "v1", "data": {"a": 1}}, "does not fit"),
        ({"kind": "ConfigMap", "apiVersion": "v1", "metadata": []}, "does not fit"),
        ({"kind": "Secret", "apiVersion": "v1", "data": {"a": "%%"}}, "does not fit"),
        (
            {"kind": "ConfigMap", "apiVersion": "v1", "metadata": {"creationTimestamp": "today"}},
            "not an RFC 3339 time",
        ),
        (
            {
                "kind": "ConfigMap",
                "apiVersion": "v1",
                "metadata": {"creationTimestamp": "2024-13-01T00:00:00Z"},
            },
            "not an RFC 3339 time",
        ),
    ],
)
def test_encode_refuses_objects_that_do_not_fit(obj: dict[str, Any], message: str) -> None:
    with pytest.raises(ProtobufError, match=message):
        encode(obj)


def test_decode_refuses_an_embedded_object_that_is_not_json() -> None:
    proto = protobuf._message_class("apps/v1", "ControllerRevision")()
    proto.data.raw = b"{not json"
    with pytest.raises(ProtobufError, match="embedded object is not JSON"):
        decode(_body("apps/v1", "ControllerRevision", proto))


# --- the descriptors and the mapping tables ----------------------------------------


def _descriptor_set() -> Any:
    data = (resources.files("kybernetes.api") / "data" / "k8s-1.32-descriptors.pb").read_bytes()
    assert len(data) < 2 << 20
    return descriptor_pb2.FileDescriptorSet.FromString(data)


def test_the_descriptor_set_is_complete_and_in_dependency_order() -> None:
    seen: set[str] = set()
    for file in _descriptor_set().file:
        assert set(file.dependency) <= seen, file.name
        seen.add(file.name)
    assert {"k8s.io/api/core/v1/generated.proto", "k8s.io/api/apps/v1/generated.proto"} <= seen


def test_every_api_package_has_its_group() -> None:
    packages = {file.package.rpartition(".")[0] for file in _descriptor_set().file}
    api = {p for p in packages if p.startswith("k8s.io.api.")}
    assert api == set(protobuf._GROUP_PACKAGES.values())


def test_json_keys_match_the_official_openapi_definitions() -> None:
    """Every message with an OpenAPI definition maps to exactly its properties, which
    checks the renamed and the inline fields."""
    special = {*protobuf._SPECIAL}
    checked = 0
    for file in _descriptor_set().file:
        for kind in file.message_type:
            name = f"{file.package}.{kind.name}"
            definition = definitions().get("io.k8s." + name.removeprefix("k8s.io."))
            if definition is None or name in special:
                continue
            descriptor = protobuf._registry().pool.FindMessageTypeByName(name)
            keys = set(protobuf._plan(descriptor).by_key)
            properties = set(definition.get("properties", ()))
            assert keys <= properties, name
            assert properties - keys <= {"apiVersion", "kind"}, name
            checked += 1
    assert checked > 400


def test_no_field_has_the_unmapped_duration_type() -> None:
    duration = ".k8s.io.apimachinery.pkg.apis.meta.v1.Duration"
    for file in _descriptor_set().file:
        for kind in file.message_type:
            assert all(field.type_name != duration for field in kind.field), kind.name


def _raw(body: bytes) -> bytes:
    envelope = protobuf._unknown_class()()
    envelope.ParseFromString(body[len(protobuf.MAGIC) :])
    raw: bytes = envelope.raw
    return raw


def _body(api_version: str, kind: str, proto: Any) -> bytes:
    envelope = protobuf._unknown_class()()
    envelope.typeMeta.apiVersion, envelope.typeMeta.kind = api_version, kind
    envelope.raw = proto.SerializeToString()
    return protobuf.MAGIC + envelope.SerializeToString()
