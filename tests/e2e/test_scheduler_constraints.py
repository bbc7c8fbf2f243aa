"""Pod anti-affinity, topology spread and preemption through the real `kyb server`.

The test plays the kubelet: Nodes are registered through the API with a taint only
these pods tolerate, and a preempted pod is removed by the test (as a kubelet would
once its containers stopped).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Cluster

TAINT = {"key": "e2e.kybernetes.io/constraints", "value": "yes", "effect": "NoSchedule"}
TOLERATION = {**TAINT, "operator": "Equal"}
ZONE = "topology.kubernetes.io/zone"


def node(name: str, zone: str, cpu: str = "4") -> dict[str, Any]:
    resources = {"cpu": cpu, "memory": "8Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, ZONE: zone}},
        "spec": {"taints": [TAINT]},
        "status": {
            "capacity": resources,
            "allocatable": resources,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


def pod(name: str, labels: dict[str, str], **spec: Any) -> dict[str, Any]:
    container = {"name": "c", "image": "busybox", "resources": {"requests": {"cpu": "100m"}}}
    container.update(spec.pop("container", {}))
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels},
        "spec": {"containers": [container], "tolerations": [TOLERATION], **spec},
    }


@pytest.fixture
def register(cluster: Cluster) -> Iterator[Callable[..., None]]:
    made: list[str] = []

    def add(name: str, zone: str, cpu: str = "4") -> None:
        cluster.kubectl("create", "-f", "-", stdin=json.dumps(node(name, zone, cpu)))
        made.append(name)

    yield add
    if made:
        cluster.kubectl("delete", "node", *made, "--ignore-not-found")


def placement(cluster: Cluster, namespace: str) -> dict[str, str]:
    pods = json.loads(cluster.kubectl("get", "pods", "-n", namespace, "-o", "json"))["items"]
    return {p["metadata"]["name"]: p["spec"].get("nodeName", "") for p in pods}


def wait_until(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def test_required_anti_affinity_spreads_replicas_one_per_node(
    cluster: Cluster, namespace: str, register: Callable[..., None]
) -> None:
    for name in ("anti-1", "anti-2", "anti-3"):
        register(name, "z1")
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                {
                    "labelSelector": {"matchLabels": {"app": "solo"}},
                    "topologyKey": "kubernetes.io/hostname",
                }
            ]
        }
    }
    ns = ("-n", namespace)
    for i in range(4):
        manifest = pod(f"solo-{i}", {"app": "solo"}, affinity=anti)
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(manifest))
    wait_until(
        lambda: sum(1 for n in placement(cluster, namespace).values() if n) == 3, "3 bound pods"
    )
    placed = placement(cluster, namespace)
    assert sorted(n for n in placed.values() if n) == ["anti-1", "anti-2", "anti-3"]
    pending = next(name for name, n in placed.items() if not n)
    cluster.kubectl(
        "wait", *ns, f"pod/{pending}", "--for=condition=PodScheduled=False", "--timeout=30s"
    )
    waiting = json.loads(cluster.kubectl("get", "pod", pending, *ns, "-o", "json"))
    condition = next(c for c in waiting["status"]["conditions"] if c["type"] == "PodScheduled")
    assert "3 node(s) didn't match pod anti-affinity rules" in condition["message"]


def test_topology_spread_balances_zones(
    cluster: Cluster, namespace: str, register: Callable[..., None]
) -> None:
    register("spread-a1", "za")
    register("spread-a2", "za")
    register("spread-b1", "zb")
    constraint = {
        "maxSkew": 1,
        "topologyKey": ZONE,
        "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app": "spread"}},
    }
    ns = ("-n", namespace)
    for i in range(6):
        manifest = pod(f"spread-{i}", {"app": "spread"}, topologySpreadConstraints=[constraint])
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(manifest))
        cluster.kubectl(
            "wait", *ns, f"pod/spread-{i}", "--for=jsonpath={.spec.nodeName}", "--timeout=30s"
        )
    zones = [
        "za" if n.startswith("spread-a") else "zb" for n in placement(cluster, namespace).values()
    ]
    assert sorted(zones) == ["za", "za", "za", "zb", "zb", "zb"]


def test_a_high_priority_pod_preempts_a_low_priority_one(
    cluster: Cluster, namespace: str, register: Callable[..., None]
) -> None:
    classes = [
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": n},
         "value": v}
        for n, v in ((f"{namespace}-low", 10), (f"{namespace}-high", 1000))
    ]  # fmt: skip
    for manifest in classes:
        cluster.kubectl("create", "-f", "-", stdin=json.dumps(manifest))
    try:
        register("preempt-1", "z1", cpu="2")
        ns = ("-n", namespace)
        big = {"resources": {"requests": {"cpu": "2"}}}
        low = pod("low", {"app": "low"}, priorityClassName=f"{namespace}-low", container=big)
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(low))
        cluster.kubectl("wait", *ns, "pod/low", "--for=jsonpath={.spec.nodeName}=preempt-1")
        high = pod("high", {"app": "high"}, priorityClassName=f"{namespace}-high", container=big)
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(high))
        cluster.kubectl(
            "wait", *ns, "pod/high", "--for=jsonpath={.status.nominatedNodeName}=preempt-1",
            "--timeout=30s",
        )  # fmt: skip
        victim = json.loads(cluster.kubectl("get", "pod", "low", *ns, "-o", "json"))
        assert victim["metadata"].get("deletionTimestamp")
        target = next(c for c in victim["status"]["conditions"] if c["type"] == "DisruptionTarget")
        assert target["reason"] == "PreemptionByScheduler"
        # the kubelet's part: the victim's containers stopped, the pod object goes
        cluster.kubectl("delete", "pod", "low", *ns, "--grace-period=0", "--force")
        cluster.kubectl(
            "wait", *ns, "pod/high", "--for=jsonpath={.spec.nodeName}=preempt-1", "--timeout=30s"
        )
        events = cluster.kubectl(
            "get", "events", *ns, "--field-selector=reason=Preempted", "-o", "json"
        )
        messages = [e["message"] for e in json.loads(events)["items"]]
        assert any(m.startswith("Preempted by pod ") and "preempt-1" in m for m in messages)
    finally:
        names = [c["metadata"]["name"] for c in classes]
        cluster.kubectl("delete", "priorityclass", *names, "--ignore-not-found")
