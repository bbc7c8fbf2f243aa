"""The node and service controllers against a real server: node lifecycle (heartbeats
through Leases, Ready Unknown, taints, taint-based eviction and recreation by a
ReplicaSet), node IPAM, and Endpoints / EndpointSlices following pod readiness.

The test plays the kubelets: it registers Nodes through the API and renews their
Leases from a thread (`Heartbeats`), and reports pod status through the status
subresource. The server runs without its own controller manager; a separate
`kyb controller-manager` runs with a short `--node-monitor-grace-period` so a stopped
node is noticed in seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kubernetes import client

from tests.e2e.conftest import Cluster, running_server

T = TypeVar("T")
Obj = dict[str, Any]
GRACE = 3


def eventually(probe: Callable[[], T | None], what: str, timeout: float = 30) -> T:
    """Polls `probe` until it answers something truthy; fails after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Heartbeats:
    """Renews the kube-node-lease Leases of the nodes in `alive` every 0.5 s."""

    def __init__(self, api: client.CoordinationV1Api) -> None:
        self.api = api
        self.alive: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def register(self, name: str) -> None:
        lease = {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": name, "namespace": "kube-node-lease"},
            "spec": {"holderIdentity": name, "leaseDurationSeconds": 40, "renewTime": _now()},
        }
        self.api.create_namespaced_lease("kube-node-lease", lease)
        self.alive.add(name)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            for name in list(self.alive):
                patch = {"spec": {"renewTime": _now()}}
                self.api.patch_namespaced_lease(name, "kube-node-lease", patch)

    def __enter__(self) -> Heartbeats:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture(scope="module")
def nodes_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    data_dir = tmp_path_factory.mktemp("kyb-nodes")
    with running_server(data_dir, "--disable", "controller-manager") as cluster:
        log_path = data_dir / "controller-manager.log"
        with log_path.open("w") as log_file:
            proc = subprocess.Popen(
                [
                    *(sys.executable, "-m", "kybernetes.cli.main", "controller-manager"),
                    *("--kubeconfig", str(cluster.kubeconfig), "--leader-elect", "false"),
                    *("--node-monitor-grace-period", f"{GRACE}s"),
                ],
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        try:
            yield cluster
            os.kill(proc.pid, signal.SIGTERM)
            assert proc.wait(timeout=30) == 0, Path(log_path).read_text()[-4000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture(scope="module")
def heartbeats(nodes_cluster: Cluster) -> Iterator[Heartbeats]:
    with Heartbeats(client.CoordinationV1Api(nodes_cluster.api_client())) as beats:
        yield beats


@pytest.fixture
def namespace(nodes_cluster: Cluster, request: pytest.FixtureRequest) -> str:
    """A namespace of the test's own on this module's server."""
    name = f"t-{request.node.originalname.removeprefix('test_').replace('_', '-')[:40]}"
    nodes_cluster.kubectl("create", "namespace", name.rstrip("-"))
    return name.rstrip("-")


def get(cluster: Cluster, *args: str) -> Obj:
    result: Obj = json.loads(cluster.kubectl("get", *args, "-o", "json"))
    return result


def register_node(cluster: Cluster, heartbeats: Heartbeats, name: str) -> None:
    resources = {"cpu": "4", "memory": "8Gi", "pods": "110"}
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "kubelet is posting ready status",
        "lastHeartbeatTime": now,
        "lastTransitionTime": now,
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name}},
        "status": {"capacity": resources, "allocatable": resources, "conditions": [ready]},
    }
    cluster.kubectl("create", "-f", "-", stdin=json.dumps(node))
    heartbeats.register(name)


def report_ready(cluster: Cluster, pod: Obj, ip: str, ready: bool = True) -> None:
    """What a kubelet reports: the pod Running with an IP, Ready or not."""
    api = client.CoreV1Api(cluster.api_client())
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    value = "True" if ready else "False"
    status = {
        "phase": "Running",
        "podIP": ip,
        "podIPs": [{"ip": ip}],
        "conditions": [
            {"type": "Ready", "status": value, "lastTransitionTime": stamp},
            {"type": "ContainersReady", "status": value, "lastTransitionTime": stamp},
        ],
    }
    meta = pod["metadata"]
    api.patch_namespaced_pod_status(meta["name"], meta["namespace"], {"status": status})


def pod_cidr(cluster: Cluster, name: str) -> Callable[[], str | None]:
    return lambda: get(cluster, "node", name)["spec"].get("podCIDR")


def condition(obj: Obj, kind: str) -> Obj:
    return next(c for c in obj["status"].get("conditions") or [] if c["type"] == kind)


def test_a_stopped_node_is_tainted_and_its_pods_recreated_elsewhere(
    nodes_cluster: Cluster, heartbeats: Heartbeats, namespace: str
) -> None:
    cluster, ns = nodes_cluster, ("-n", namespace)
    register_node(cluster, heartbeats, "doomed")
    toleration = {
        "key": "node.kubernetes.io/unreachable",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 2,
    }
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "containers": [{"name": "c", "image": "busybox"}],
                    "tolerations": [toleration],
                },
            },
        },
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(rs))
    first = eventually(
        lambda: (
            items
            if len(items := get(cluster, "pods", *ns)["items"]) == 2
            and all(p["spec"].get("nodeName") == "doomed" for p in items)
            else None
        ),
        "two pods bound to the doomed node",
    )
    tolerations = first[0]["spec"]["tolerations"]
    assert toleration in tolerations  # the pod's own, plus the admission default:
    assert {
        "key": "node.kubernetes.io/not-ready",
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    } in tolerations
    for i, pod in enumerate(first):
        report_ready(cluster, pod, f"10.42.0.{i + 10}")
    register_node(cluster, heartbeats, "spare")

    heartbeats.alive.discard("doomed")
    node = eventually(
        lambda: (
            n
            if condition(n := get(cluster, "node", "doomed"), "Ready")["status"] == "Unknown"
            else None
        ),
        "the doomed node Unknown",
    )
    ready = condition(node, "Ready")
    assert ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    taints = eventually(lambda: get(cluster, "node", "doomed")["spec"].get("taints"), "taints")
    keys = {(t["key"], t["effect"]) for t in taints}
    assert keys == {
        ("node.kubernetes.io/unreachable", "NoSchedule"),
        ("node.kubernetes.io/unreachable", "NoExecute"),
    }

    first_names = {p["metadata"]["name"] for p in first}
    replaced = eventually(
        lambda: (
            live
            if len(
                live := [
                    p
                    for p in get(cluster, "pods", *ns)["items"]
                    if not p["metadata"].get("deletionTimestamp")
                    and p["spec"].get("nodeName") == "spare"
                ]
            )
            == 2
            else None
        ),
        "two replacement pods on the spare node",
    )
    assert not first_names & {p["metadata"]["name"] for p in replaced}
    for name in first_names:
        evicted = get(cluster, "pod", name, *ns)
        assert evicted["metadata"].get("deletionTimestamp")
        assert condition(evicted, "Ready")["status"] == "False"
        assert condition(evicted, "DisruptionTarget")["reason"] == "DeletionByTaintManager"

    # The kubelet comes back: it posts Ready and renews its Lease; the taints go.
    back = get(cluster, "node", "doomed")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for c in back["status"]["conditions"]:
        c.update(status="False" if c["type"] != "Ready" else "True", reason="KubeletReady")
        c.update(lastHeartbeatTime=stamp, lastTransitionTime=stamp)
    client.CoreV1Api(cluster.api_client()).replace_node_status("doomed", back)
    heartbeats.alive.add("doomed")
    eventually(lambda: not get(cluster, "node", "doomed")["spec"].get("taints"), "taints removed")


def test_nodes_get_distinct_pod_cidrs(nodes_cluster: Cluster, heartbeats: Heartbeats) -> None:
    register_node(nodes_cluster, heartbeats, "cidr-a")
    register_node(nodes_cluster, heartbeats, "cidr-b")
    names = ("cidr-a", "cidr-b")
    cidrs = [eventually(pod_cidr(nodes_cluster, name), f"{name}'s podCIDR") for name in names]
    assert len(set(cidrs)) == 2
    for cidr, name in zip(cidrs, names, strict=True):
        assert cidr.startswith("10.42.") and cidr.endswith(".0/24")
        assert get(nodes_cluster, "node", name)["spec"]["podCIDRs"] == [cidr]


def test_endpoints_and_slices_follow_pod_readiness(
    nodes_cluster: Cluster, heartbeats: Heartbeats, namespace: str
) -> None:
    cluster, ns = nodes_cluster, ("-n", namespace)
    register_node(cluster, heartbeats, "serving")
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "api", "labels": {"tier": "backend"}},
        "spec": {
            "selector": {"app": "api"},
            "ports": [{"name": "web", "port": 80, "targetPort": "http"}],
        },
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(service))
    pods = []
    for name, port in (("api-a", 8080), ("api-b", 9090)):
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "api"}},
            "spec": {
                "nodeName": "serving",
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "ports": [{"name": "http", "containerPort": port}],
                    }
                ],
            },
        }
        cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(pod))
        pods.append(get(cluster, "pod", name, *ns))
    report_ready(cluster, pods[0], "10.42.1.5")
    report_ready(cluster, pods[1], "10.42.1.6", ready=False)

    def subsets() -> list[Obj] | None:
        found = get(cluster, "endpoints", "api", *ns).get("subsets") or []
        return found if len(found) == 2 else None

    by_port = {s["ports"][0]["port"]: s for s in eventually(subsets, "two endpoint subsets")}
    assert [a["ip"] for a in by_port[8080]["addresses"]] == ["10.42.1.5"]
    assert [a["ip"] for a in by_port[9090]["notReadyAddresses"]] == ["10.42.1.6"]
    assert by_port[8080]["addresses"][0]["nodeName"] == "serving"

    def slices() -> list[Obj] | None:
        found = get(cluster, "endpointslices", *ns, "-l", "kubernetes.io/service-name=api")
        items = found["items"]
        return items if sum(len(s.get("endpoints") or []) for s in items) == 2 else None

    found = eventually(slices, "EndpointSlices with two endpoints")
    assert len(found) == 2  # one per resolved port
    for slice_ in found:
        labels = slice_["metadata"]["labels"]
        assert labels["endpointslice.kubernetes.io/managed-by"] == "endpointslice-controller.k8s.io"
        assert labels["tier"] == "backend"
        assert slice_["metadata"]["ownerReferences"][0]["name"] == "api"
        assert slice_["addressType"] == "IPv4"
    ready = {
        s["endpoints"][0]["targetRef"]["name"]: s["endpoints"][0]["conditions"]["ready"]
        for s in found
    }
    assert ready == {"api-a": True, "api-b": False}

    report_ready(cluster, get(cluster, "pod", "api-b", *ns), "10.42.1.6")
    eventually(
        lambda: (
            all("notReadyAddresses" not in s and len(s["addresses"]) == 1 for s in subsets() or [])
            and subsets()
        ),
        "both pods ready in the Endpoints",
    )
    eventually(
        lambda: all(e["conditions"]["ready"] for s in slices() or [] for e in s["endpoints"]),
        "both endpoints ready in the slices",
    )


def test_quota_usage_and_disruption_budget_status(
    nodes_cluster: Cluster, heartbeats: Heartbeats, namespace: str
) -> None:
    cluster, ns = nodes_cluster, ("-n", namespace)
    register_node(cluster, heartbeats, "budget")
    quota = {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "q"},
        "spec": {
            "hard": {
                "pods": "10",
                "requests.cpu": "2",
                "limits.memory": "1Gi",
                "count/configmaps": "5",
                "count/replicasets.apps": "3",
            }
        },
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(quota))
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "web"},
        "spec": {"maxUnavailable": "50%", "selector": {"matchLabels": {"app": "web"}}},
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(pdb))
    container = {
        "name": "c",
        "image": "busybox",
        "resources": {"requests": {"cpu": "250m"}, "limits": {"cpu": "250m", "memory": "64Mi"}},
    }
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 4,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"nodeName": "budget", "containers": [container]},
            },
        },
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(rs))
    pods = eventually(
        lambda: items if len(items := get(cluster, "pods", *ns)["items"]) == 4 else None,
        "four pods",
    )
    for i, pod in enumerate(pods):
        report_ready(cluster, pod, f"10.42.2.{i + 1}")

    expected_used = {
        "pods": "4",
        "requests.cpu": "1",
        "limits.memory": "256Mi",
        "count/replicasets.apps": "1",
    }

    def used() -> Obj | None:
        status = get(cluster, "resourcequota", "q", *ns).get("status") or {}
        found = dict(status.get("used") or {})
        found.pop("count/configmaps", None)
        return status if found == expected_used else None

    status = eventually(used, "the quota's usage")
    assert status["hard"] == quota["spec"]["hard"]  # type: ignore[index]
    configmaps = len(get(cluster, "configmaps", *ns)["items"])  # kube-root-ca.crt, if any
    assert status["used"]["count/configmaps"] == str(configmaps)

    def budget() -> Obj | None:
        status = get(cluster, "pdb", "web", *ns).get("status") or {}
        return status if status.get("currentHealthy") == 4 else None

    status = eventually(budget, "the budget's status")
    assert (status["expectedPods"], status["desiredHealthy"], status["disruptionsAllowed"]) == (
        4,
        2,
        2,
    )
    allowed = condition({"status": status}, "DisruptionAllowed")
    assert (allowed["status"], allowed["reason"]) == ("True", "SufficientPods")


def test_endpoints_of_a_selectorless_service_are_mirrored_into_slices(
    nodes_cluster: Cluster, namespace: str
) -> None:
    cluster, ns = nodes_cluster, ("-n", namespace)
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "external"},
        "spec": {"ports": [{"name": "db", "port": 5432}]},
    }
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {"name": "external"},
        "subsets": [{"addresses": [{"ip": "192.0.2.10"}], "ports": [{"name": "db", "port": 5432}]}],
    }
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(service))
    cluster.kubectl("create", *ns, "-f", "-", stdin=json.dumps(endpoints))

    def mirrored() -> list[Obj] | None:
        label = "kubernetes.io/service-name=external"
        items: list[Obj] = get(cluster, "endpointslices", *ns, "-l", label)["items"]
        return items or None

    (slice_,) = eventually(mirrored, "the mirrored EndpointSlice")
    labels = slice_["metadata"]["labels"]
    assert labels["endpointslice.kubernetes.io/managed-by"] == (
        "endpointslicemirroring-controller.k8s.io"
    )
    assert slice_["metadata"]["ownerReferences"][0]["kind"] == "Endpoints"
    assert slice_["endpoints"] == [{"addresses": ["192.0.2.10"], "conditions": {"ready": True}}]
    assert slice_["ports"] == [{"name": "db", "port": 5432, "protocol": "TCP"}]
