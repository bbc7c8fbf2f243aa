"""Kubelet admission: resources, node affinity, NoExecute taints, in Kubernetes' words."""

from __future__ import annotations

from typing import Any

from kybernetes.api.tolerations import tolerates
from kybernetes.kubelet.admission import admit, matches_node, pod_requests

Obj = dict[str, Any]
NODE: Obj = {
    "metadata": {"name": "n1", "labels": {"disk": "ssd", "gen": "3"}},
    "spec": {"taints": [{"key": "dedicated", "value": "db", "effect": "NoExecute"}]},
    "status": {"allocatable": {"cpu": "2", "memory": "1Gi", "pods": "2"}},
}
TOLERATE = [{"key": "dedicated", "operator": "Equal", "value": "db", "effect": "NoExecute"}]


def pod(requests: Obj | None = None, **spec: Any) -> Obj:
    container = {"name": "c", "resources": {"requests": requests or {}}}
    return {
        "metadata": {"name": "p"},
        "spec": {"containers": [container], "tolerations": TOLERATE, **spec},
    }


def test_requests_take_the_larger_of_init_and_sum() -> None:
    spec = {
        "containers": [{"resources": {"requests": {"cpu": "100m"}}}] * 2,
        "initContainers": [{"resources": {"requests": {"cpu": "500m", "memory": "1Mi"}}}],
        "overhead": {"cpu": "10m"},
    }
    assert pod_requests(spec) == {"cpu": 510, "memory": 1048576}


def test_resources_in_kubernetes_words() -> None:
    assert admit(pod({"cpu": "1"}), NODE, []) is None
    assert admit(pod({"cpu": "1500m"}), NODE, [pod({"cpu": "1"})]) == (
        "OutOfcpu",
        "Pod was rejected: Node didn't have enough resource: cpu, requested: 1500, "
        "used: 1000, capacity: 2000",
    )
    assert admit(pod({"memory": "2Gi"}), NODE, [])[0] == "OutOfmemory"  # type: ignore[index]
    assert admit(pod(), NODE, [pod(), pod()])[0] == "OutOfpods"  # type: ignore[index]


def test_affinity_and_selector() -> None:
    term = {"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["2"]}]}
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [term]}
        }
    }
    assert matches_node({"affinity": affinity, "nodeSelector": {"disk": "ssd"}}, NODE)
    assert not matches_node({"nodeSelector": {"disk": "hdd"}}, NODE)
    fields = {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}]}
    other = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [fields]}
        }
    }
    reason, message = admit(pod(affinity=other), NODE, []) or ("", "")
    assert reason == "NodeAffinity"
    assert message == (
        "Pod was rejected: Predicate NodeAffinity failed: "
        "node(s) didn't match Pod's node affinity/selector"
    )


def test_no_execute_taints() -> None:
    untolerant = pod(tolerations=[])
    assert admit(untolerant, NODE, [])[0] == "TaintToleration"  # type: ignore[index]
    static = {
        **untolerant,
        "metadata": {"name": "s", "annotations": {"kubernetes.io/config.source": "file"}},
    }
    assert admit(static, NODE, []) is None
    assert tolerates({"operator": "Exists"}, NODE["spec"]["taints"][0])
    assert not tolerates({"key": "dedicated", "value": "web"}, NODE["spec"]["taints"][0])
