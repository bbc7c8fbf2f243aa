"""CRUD on every built-in kind through the official client's dynamic client: create,
get, list, patch, delete, with the server's defaulting and validation in the loop."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import dynamic
from kubernetes.dynamic.exceptions import NotFoundError

from tests.e2e.conftest import Cluster

TEMPLATE = {
    "metadata": {"labels": {"app": "x"}},
    "spec": {"containers": [{"name": "c", "image": "busybox"}]},
}
SELECTOR = {"matchLabels": {"app": "x"}}
RULES = [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}]
SUBJECTS = [{"kind": "ServiceAccount", "name": "default", "namespace": "default"}]

# (apiVersion, kind, namespaced, body without apiVersion/kind/metadata.name)
KINDS: list[tuple[str, str, bool, dict[str, Any]]] = [
    ("v1", "ConfigMap", True, {"data": {"k": "v"}}),
    ("v1", "Secret", True, {"stringData": {"k": "v"}}),
    ("v1", "ServiceAccount", True, {}),
    ("v1", "Pod", True, {"spec": TEMPLATE["spec"]}),
    ("v1", "PodTemplate", True, {"template": TEMPLATE}),
    (
        "v1",
        "ReplicationController",
        True,
        {"spec": {"selector": {"app": "x"}, "template": TEMPLATE}},
    ),
    ("v1", "Service", True, {"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}]}}),
    (
        "v1",
        "Endpoints",
        True,
        {"subsets": [{"addresses": [{"ip": "10.1.2.3"}], "ports": [{"port": 80}]}]},
    ),
    (
        "v1",
        "Event",
        True,
        {"involvedObject": {"kind": "Pod", "name": "p"}, "reason": "R", "message": "m"},
    ),
    ("v1", "LimitRange", True, {"spec": {"limits": [{"type": "Container", "max": {"cpu": "2"}}]}}),
    ("v1", "ResourceQuota", True, {"spec": {"hard": {"pods": "10"}}}),
    (
        "v1",
        "PersistentVolumeClaim",
        True,
        {"spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}},
    ),
    ("v1", "Node", False, {"spec": {"podCIDR": "10.42.9.0/24"}}),
    (
        "v1",
        "PersistentVolume",
        False,
        {
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/pv"},
            }
        },
    ),
    ("apps/v1", "Deployment", True, {"spec": {"selector": SELECTOR, "template": TEMPLATE}}),
    ("apps/v1", "ReplicaSet", True, {"spec": {"selector": SELECTOR, "template": TEMPLATE}}),
    (
        "apps/v1",
        "StatefulSet",
        True,
        {"spec": {"selector": SELECTOR, "serviceName": "s", "template": TEMPLATE}},
    ),
    ("apps/v1", "DaemonSet", True, {"spec": {"selector": SELECTOR, "template": TEMPLATE}}),
    ("apps/v1", "ControllerRevision", True, {"revision": 1, "data": {"k": "v"}}),
    (
        "batch/v1",
        "Job",
        True,
        {
            "spec": {
                "template": {**TEMPLATE, "spec": {**TEMPLATE["spec"], "restartPolicy": "Never"}}
            }
        },
    ),
    (
        "batch/v1",
        "CronJob",
        True,
        {
            "spec": {
                "schedule": "*/5 * * * *",
                "jobTemplate": {
                    "spec": {
                        "template": {
                            **TEMPLATE,
                            "spec": {**TEMPLATE["spec"], "restartPolicy": "OnFailure"},
                        }
                    }
                },
            }
        },
    ),
    (
        "coordination.k8s.io/v1",
        "Lease",
        True,
        {"spec": {"holderIdentity": "me", "leaseDurationSeconds": 15}},
    ),
    (
        "discovery.k8s.io/v1",
        "EndpointSlice",
        True,
        {
            "addressType": "IPv4",
            "endpoints": [{"addresses": ["10.1.2.3"]}],
            "ports": [{"port": 80}],
        },
    ),
    (
        "events.k8s.io/v1",
        "Event",
        True,
        {
            "eventTime": "2026-01-01T00:00:00.000000Z",
            "reportingController": "x/y",
            "reportingInstance": "i",
            "action": "A",
            "reason": "R",
            "type": "Normal",
            "regarding": {"kind": "Pod", "name": "p"},
        },
    ),
    ("policy/v1", "PodDisruptionBudget", True, {"spec": {"minAvailable": 1, "selector": SELECTOR}}),
    ("rbac.authorization.k8s.io/v1", "Role", True, {"rules": RULES}),
    (
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        True,
        {
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r"},
            "subjects": SUBJECTS,
        },
    ),
    ("rbac.authorization.k8s.io/v1", "ClusterRole", False, {"rules": RULES}),
    (
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        False,
        {
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "r",
            },
            "subjects": SUBJECTS,
        },
    ),
    ("scheduling.k8s.io/v1", "PriorityClass", False, {"value": 1000}),
]


@pytest.mark.parametrize(
    ("api_version", "kind", "namespaced", "body"), KINDS, ids=[f"{k[1]}.{k[0]}" for k in KINDS]
)
def test_crud(
    cluster: Cluster,
    namespace: str,
    api_version: str,
    kind: str,
    namespaced: bool,
    body: dict[str, Any],
) -> None:
    dyn = dynamic.DynamicClient(cluster.api_client())
    resource = dyn.resources.get(api_version=api_version, kind=kind)
    name = f"crud-{kind.lower()}-{namespace[-8:]}"
    ns = namespace if namespaced else None
    for reference in ("involvedObject", "regarding"):  # events about a pod in `ns`
        if reference in body:
            body = {**body, reference: {**body[reference], "namespace": namespace}}
    manifest = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "labels": {"crud": "yes"}},
        **body,
    }
    created = resource.create(body=manifest, namespace=ns)
    assert created.metadata.name == name
    assert created.metadata.uid
    got = resource.get(name=name, namespace=ns)
    # a controller may already have written the status (quotas, budgets, sets)
    assert int(got.metadata.resourceVersion) >= int(created.metadata.resourceVersion)
    listed = resource.get(namespace=ns, label_selector="crud=yes")
    assert name in [item.metadata.name for item in listed.items]
    patched = resource.patch(
        name=name,
        namespace=ns,
        body={"metadata": {"labels": {"patched": "yes"}}},
        content_type="application/merge-patch+json",
    )
    assert patched.metadata.labels["patched"] == "yes"
    resource.delete(name=name, namespace=ns, grace_period_seconds=0)
    with pytest.raises(NotFoundError):
        resource.get(name=name, namespace=ns)


def test_events_are_one_object_in_two_shapes(cluster: Cluster, namespace: str) -> None:
    dyn = dynamic.DynamicClient(cluster.api_client())
    core = dyn.resources.get(api_version="v1", kind="Event")
    events = dyn.resources.get(api_version="events.k8s.io/v1", kind="Event")
    core.create(
        namespace=namespace,
        body={
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "shaped"},
            "involvedObject": {"kind": "Pod", "name": "p", "namespace": namespace},
            "reason": "Started",
            "message": "hello",
            "source": {"component": "kubelet"},
            "count": 2,
        },
    )
    seen = events.get(name="shaped", namespace=namespace)
    assert seen.apiVersion == "events.k8s.io/v1"
    assert seen.regarding.name == "p"
    assert seen.note == "hello"
    assert seen.deprecatedSource.component == "kubelet"
    assert seen.deprecatedCount == 2
    listed = events.get(namespace=namespace)
    assert [e.note for e in listed.items] == ["hello"]
