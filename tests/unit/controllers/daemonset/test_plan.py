"""The DaemonSet's node predicates and sync decisions, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from kybernetes.controllers.daemonset.nodes import pin_to_node, pod_node, should_run
from kybernetes.controllers.daemonset.plan import NodeState, manage, rolling_update, status

from ..fakes import pod

Obj = dict[str, Any]
NOW = datetime(2025, 1, 2, tzinfo=UTC)


def ds(**rolling: Any) -> Obj:
    return {
        "metadata": {"name": "agent", "namespace": "ns", "generation": 4},
        "spec": {
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": rolling},
            "template": {"spec": {"containers": [{"name": "c", "image": "a"}]}},
        },
    }


def node(name: str, labels: dict[str, str] | None = None, taints: list[Obj] | None = None) -> Obj:
    return {"metadata": {"name": name, "labels": labels or {}}, "spec": {"taints": taints or []}}


def daemon_pod(name: str, hash_: str, node_name: str, **kw: Any) -> Obj:
    p = pod(name, labels={"controller-revision-hash": hash_}, node=node_name, **kw)
    return p


def old_states(count: int) -> list[NodeState]:
    return [
        NodeState(node(f"n{i}"), True, True, [daemon_pod(f"p{i}", "old", f"n{i}")])
        for i in range(count)
    ]


def test_taints_versus_automatic_and_template_tolerations() -> None:
    d = ds()
    assert should_run(d, node("n")) == (True, True)
    cordoned = [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]
    assert should_run(d, node("n", taints=cordoned)) == (True, True)
    unreachable = [{"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    assert should_run(d, node("n", taints=unreachable)) == (True, True)
    dedicated = [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]
    assert should_run(d, node("n", taints=dedicated)) == (False, True)
    evicting = [{"key": "dedicated", "value": "gpu", "effect": "NoExecute"}]
    assert should_run(d, node("n", taints=evicting)) == (False, False)
    d["spec"]["template"]["spec"]["tolerations"] = [
        {"key": "dedicated", "operator": "Equal", "value": "gpu"}
    ]
    assert should_run(d, node("n", taints=evicting)) == (True, True)


def test_node_selector_and_affinity() -> None:
    d = ds()
    spec = d["spec"]["template"]["spec"]
    spec["nodeSelector"] = {"disk": "ssd"}
    assert should_run(d, node("n"))[0] is False
    assert should_run(d, node("n", {"disk": "ssd"}))[0] is True
    spec["affinity"] = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]},
                    {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["b"]}]},
                ]
            }
        }
    }
    assert should_run(d, node("a", {"disk": "ssd", "cores": "8"}))[0] is True
    assert should_run(d, node("a", {"disk": "ssd", "cores": "2"}))[0] is False
    assert should_run(d, node("b", {"disk": "ssd"}))[0] is True


def test_pin_to_node_replaces_required_terms() -> None:
    affinity = pin_to_node(
        {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}}, "n1"
    )
    required = affinity["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert required == {
        "nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}
        ]
    }
    assert "preferredDuringSchedulingIgnoredDuringExecution" in affinity["nodeAffinity"]
    assert pod_node({"spec": {"affinity": affinity}}) == "n1"


def test_manage_creates_missing_deletes_failed_extra_and_misplaced() -> None:
    d = ds()
    states = [
        NodeState(node("empty"), True, True, []),
        NodeState(node("failed"), True, True, [daemon_pod("f", "h", "failed", phase="Failed")]),
        NodeState(
            node("two"),
            True,
            True,
            [daemon_pod("old", "h", "two"), daemon_pod("new", "h", "two")],
        ),
        NodeState(node("evicting"), False, False, [daemon_pod("e", "h", "evicting")]),
        NodeState(node("ineligible"), False, True, [daemon_pod("i", "h", "ineligible")]),
    ]
    create, delete = manage(d, states, "h", NOW)
    assert create == ["empty"]
    assert [p["metadata"]["name"] for p in delete] == ["f", "new", "e"]


def test_rolling_update_respects_max_unavailable() -> None:
    d = ds(maxUnavailable=1, maxSurge=0)
    states = [
        NodeState(node(f"n{i}"), True, True, [daemon_pod(f"p{i}", "old", f"n{i}")])
        for i in range(3)
    ]
    delete, surge = rolling_update(d, states, "new", NOW)
    assert ([p["metadata"]["name"] for p in delete], surge) == (["p0"], [])
    states[0].pods = [daemon_pod("q0", "new", "n0", ready=False)]
    assert rolling_update(d, states, "new", NOW) == ([], [])
    states[1].pods = [daemon_pod("p1", "old", "n1", ready=False)]  # unavailable anyway
    delete, _ = rolling_update(d, states, "new", NOW)
    assert [p["metadata"]["name"] for p in delete] == ["p1"]


def test_rolling_update_with_surge() -> None:
    d = ds(maxUnavailable=0, maxSurge=1)
    states = [
        NodeState(node(f"n{i}"), True, True, [daemon_pod(f"p{i}", "old", f"n{i}")])
        for i in range(2)
    ]
    assert rolling_update(d, states, "new", NOW) == ([], ["n0"])
    states[0].pods.append(daemon_pod("q0", "new", "n0", ready=False))
    assert rolling_update(d, states, "new", NOW) == ([], [])
    states[0].pods[1] = daemon_pod("q0", "new", "n0")
    delete, surge = rolling_update(d, states, "new", NOW)
    assert ([p["metadata"]["name"] for p in delete], surge) == (["p0"], ["n1"])


def test_status_counts() -> None:
    d = ds()
    states = [
        NodeState(node("a"), True, True, [daemon_pod("a", "new", "a")]),
        NodeState(node("b"), True, True, [daemon_pod("b", "old", "b", ready=False)]),
        NodeState(node("c"), True, True, []),
        NodeState(node("d"), False, True, [daemon_pod("d", "new", "d")]),
    ]
    assert status(d, states, "new", NOW) == {
        "currentNumberScheduled": 2,
        "numberMisscheduled": 1,
        "desiredNumberScheduled": 3,
        "numberReady": 1,
        "observedGeneration": 4,
        "updatedNumberScheduled": 1,
        "numberAvailable": 1,
        "numberUnavailable": 2,
    }
