"""NodeName, NodeUnschedulable, TaintToleration, NodePorts: Kubernetes' reasons and codes."""

from __future__ import annotations

from kybernetes.scheduler.framework import Code
from kybernetes.scheduler.plugins.nodename import NodeName
from kybernetes.scheduler.plugins.nodeports import NodePorts
from kybernetes.scheduler.plugins.nodeunschedulable import NodeUnschedulable
from kybernetes.scheduler.plugins.tainttoleration import TaintToleration

from .helpers import all_slots, names, node, pod, reasons, snapshot_of, state

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def test_node_name() -> None:
    snapshot = snapshot_of(node("a"), node("b"))
    result = NodeName({}).filter(state(), pod(spec={"nodeName": "b"}), snapshot)
    assert names(snapshot, result.feasible) == ["b"]
    assert reasons(snapshot, result) == {"node(s) didn't match the requested node name": ["a"]}
    assert result.rejections[0].code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE
    assert names(snapshot, NodeName({}).filter(state(), pod(), snapshot).feasible) == ["a", "b"]


def test_node_unschedulable_unless_tolerated() -> None:
    snapshot = snapshot_of(node("cordoned", unschedulable=True), node("ok"))
    result = NodeUnschedulable({}).filter(state(), pod(), snapshot)
    assert reasons(snapshot, result) == {"node(s) were unschedulable": ["cordoned"]}
    tolerant = pod(
        spec={"tolerations": [{"key": "node.kubernetes.io/unschedulable", "operator": "Exists"}]}
    )
    result = NodeUnschedulable({}).filter(state(), tolerant, snapshot)
    assert names(snapshot, result.feasible) == ["cordoned", "ok"]


def test_taint_filter_reports_the_first_untolerated_taint() -> None:
    snapshot = snapshot_of(
        node("cp", taints=[CONTROL_PLANE]),
        node("gpu", taints=[{"key": "gpu", "value": "true", "effect": "NoExecute"}]),
        node("soft", taints=[{"key": "soft", "value": "x", "effect": "PreferNoSchedule"}]),
        node(
            "both",
            taints=[{"key": "gpu", "value": "true", "effect": "NoSchedule"}, CONTROL_PLANE],
        ),
    )
    result = TaintToleration({}).filter(state(), pod(), snapshot)
    assert reasons(snapshot, result) == {
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }": ["cp"],
        "node(s) had untolerated taint {gpu: true}": ["both", "gpu"],
    }
    assert names(snapshot, result.feasible) == ["soft"]
    tolerant = pod(spec={"tolerations": [{"key": "gpu", "value": "true"}]})
    result = TaintToleration({}).filter(state(), tolerant, snapshot)
    assert names(snapshot, result.feasible) == ["gpu", "soft"]
    assert reasons(snapshot, result) == {
        "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }": ["both", "cp"]
    }


def test_taint_score_counts_intolerable_prefer_no_schedule_taints() -> None:
    def soft(key: str) -> dict[str, str]:
        return {"key": key, "value": "v", "effect": "PreferNoSchedule"}

    snapshot = snapshot_of(
        node("clean"), node("one", taints=[soft("a")]), node("two", taints=[soft("a"), soft("b")])
    )
    plugin = TaintToleration({})
    p = pod(spec={"tolerations": [{"key": "c", "operator": "Exists", "effect": "NoSchedule"}]})
    raw = plugin.score(state(), p, snapshot, all_slots(snapshot))
    assert list(plugin.normalize_score(state(), p, raw)) == [100, 50, 0]
    tolerant = pod(spec={"tolerations": [{"operator": "Exists", "effect": "PreferNoSchedule"}]})
    raw = plugin.score(state(), tolerant, snapshot, all_slots(snapshot))
    assert list(plugin.normalize_score(state(), tolerant, raw)) == [100, 100, 100]


def ports(*entries: tuple[str, str, int]) -> dict[str, object]:
    return {
        "containers": [
            {
                "name": "c",
                "ports": [
                    {"containerPort": 1, "hostIP": ip, "protocol": proto, "hostPort": port}
                    for ip, proto, port in entries
                ],
            }
        ]
    }


def test_node_ports_conflicts() -> None:
    snapshot = snapshot_of(node("any"), node("specific"), node("free"))
    snapshot.add_pod(pod("a", spec=ports(("0.0.0.0", "TCP", 80))), "any")
    snapshot.add_pod(pod("b", spec=ports(("10.0.0.1", "TCP", 80))), "specific")
    plugin = NodePorts({})
    reason = "node(s) didn't have free ports for the requested pod ports"

    def rejected(*entries: tuple[str, str, int]) -> list[str]:
        return reasons(snapshot, plugin.filter(state(), pod(spec=ports(*entries)), snapshot)).get(
            reason, []
        )

    assert rejected(("0.0.0.0", "TCP", 80)) == ["any", "specific"]
    assert rejected(("10.0.0.1", "TCP", 80)) == ["any", "specific"]
    assert rejected(("10.0.0.2", "TCP", 80)) == ["any"]
    assert rejected(("0.0.0.0", "UDP", 80)) == []
    assert plugin.pre_filter(state(), pod(), snapshot).code is Code.SKIP
