"""The scheduler inside `kyb server`: pods are bound to registered nodes with room.

The test plays the kubelet: it registers Nodes through the API. They carry a taint
only this test's pods tolerate, so other tests' pods are never placed on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import Cluster

TAINT = {"key": "e2e.kybernetes.io/scheduler-test", "value": "yes", "effect": "NoSchedule"}
TOLERATION = {"key": TAINT["key"], "operator": "Equal", "value": "yes", "effect": "NoSchedule"}


def node(name: str, cpu: str) -> dict[str, object]:
    resources = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "spec": {"taints": [TAINT]},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod(name: str, cpu: str) -> dict[str, object]:
    container = {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": cpu}}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {"containers": [container], "tolerations": [TOLERATION]},
    }


@pytest.fixture
def nodes(cluster: Cluster) -> Iterator[list[str]]:
    names = ["sched-a", "sched-b"]
    for name in names:
        cluster.kubectl("create", "-f", "-", stdin=json.dumps(node(name, "2")))
    yield names
    cluster.kubectl("delete", "node", *names, "sched-big", "--ignore-not-found")


def test_pods_are_bound_to_nodes_with_room(
    cluster: Cluster, namespace: str, nodes: list[str]
) -> None:
    ns = ("-n", namespace)
    for i in range(4):
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(pod(f"p{i}", "1")))
    for i in range(4):
        cluster.kubectl(
            "wait", *ns, f"pod/p{i}", "--for=jsonpath={.spec.nodeName}", "--timeout=30s"
        )
    placed = json.loads(cluster.kubectl("get", "pods", *ns, "-o", "json"))["items"]
    per_node = sorted(p["spec"]["nodeName"] for p in placed)
    assert per_node == ["sched-a", "sched-a", "sched-b", "sched-b"]

    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(pod("big", "4")))
    cluster.kubectl("wait", *ns, "pod/big", "--for=condition=PodScheduled=False", "--timeout=30s")
    big = json.loads(cluster.kubectl("get", "pod", "big", *ns, "-o", "json"))
    condition = next(c for c in big["status"]["conditions"] if c["type"] == "PodScheduled")
    assert condition["reason"] == "Unschedulable"
    assert "Insufficient cpu" in condition["message"]
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(node("sched-big", "8")))
    cluster.kubectl(
        "wait", *ns, "pod/big", "--for=jsonpath={.spec.nodeName}=sched-big", "--timeout=30s"
    )
