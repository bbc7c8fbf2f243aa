"""NodeLifecycleController: grace period, conditions, taints and taint-based eviction,
driven by `sync_node` / `sync_pod` on seeded caches and a FakeClock."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.nodelifecycle import NodeLifecycleController

from ..fakes import FakeClient, FakeRecorder, pod

Obj = dict[str, Any]

UNREACHABLE = "node.kubernetes.io/unreachable"
NOT_READY = "node.kubernetes.io/not-ready"


def node(name: str = "n1", *, ready: str | None = "True", taints: list[Obj] | None = None) -> Obj:
    conditions = []
    if ready is not None:
        conditions = [
            {
                "type": "Ready",
                "status": ready,
                "reason": "KubeletReady",
                "lastHeartbeatTime": "2025-01-01T00:00:00Z",
                "lastTransitionTime": "2025-01-01T00:00:00Z",
            },
            {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
        ]
    obj: Obj = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "uid": f"uid-{name}",
            "resourceVersion": "1",
            "creationTimestamp": "2025-01-01T00:00:00Z",
        },
        "spec": {},
        "status": {"conditions": conditions},
    }
    if taints is not None:
        obj["spec"]["taints"] = taints
    return obj


def lease(name: str, renew: str) -> Obj:
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": {"name": name, "namespace": "kube-node-lease", "resourceVersion": "1"},
        "spec": {"holderIdentity": name, "renewTime": renew},
    }


class Harness:
    def __init__(self, *nodes: Obj, pods: list[Obj] = ()) -> None:
        self.clock = FakeClock()
        self.client = FakeClient()
        self.recorder = FakeRecorder()
        factory = SharedInformerFactory(self.client, clock=self.clock)  # type: ignore[arg-type]
        self.ctl = NodeLifecycleController(
            self.client,  # type: ignore[arg-type]
            factory,
            self.recorder,  # type: ignore[arg-type]
            clock=self.clock,
        )
        for n in nodes:
            self.ctl.nodes.indexer.add(n)
        for p in pods:
            self.ctl.pods.indexer.add(p)

    def taint_writes(self) -> list[list[Obj]]:
        return [n["spec"].get("taints", []) for n in self.client.of("update", "nodes")]


async def test_healthy_node_is_requeued_for_the_end_of_its_grace_period() -> None:
    h = Harness(node())
    await h.ctl.sync_node("n1")
    assert h.client.writes == []
    h.clock.advance(39.9)
    assert len(h.ctl.node_queue) == 0
    h.clock.advance(0.1)
    assert len(h.ctl.node_queue) == 1


async def test_stale_node_becomes_unknown_and_unreachable_after_the_grace_period() -> None:
    h = Harness(node(), node("healthy"))
    await h.ctl.sync_node("n1")
    h.clock.advance(39)
    await h.ctl.sync_node("n1")
    assert h.client.writes == []
    h.clock.advance(1)
    await h.ctl.sync_node("n1")
    (status,) = h.client.of("update_status", "nodes")
    conditions = {c["type"]: c for c in status["status"]["conditions"]}
    assert set(conditions) == {"Ready", "MemoryPressure", "DiskPressure", "PIDPressure"}
    ready = conditions["Ready"]
    assert ready["status"] == "Unknown"
    assert ready["reason"] == "NodeStatusUnknown"
    assert ready["message"] == "Kubelet stopped posting node status."
    assert ready["lastHeartbeatTime"] == "2025-01-01T00:00:00Z"
    assert ready["lastTransitionTime"] == "2025-01-01T00:00:40Z"
    assert conditions["MemoryPressure"]["status"] == "Unknown"
    assert conditions["DiskPressure"]["reason"] == "NodeStatusNeverUpdated"
    (taints,) = h.taint_writes()
    assert taints == [
        {"key": UNREACHABLE, "effect": "NoSchedule"},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:40Z"},
    ]
    assert ("Normal", "NodeNotReady", "Node n1 status is now: NodeNotReady") in h.recorder.events


async def test_lease_renewals_and_heartbeats_keep_a_node_healthy() -> None:
    h = Harness(node())
    h.ctl.leases.indexer.add(lease("n1", "2025-01-01T00:00:00.000000Z"))
    await h.ctl.sync_node("n1")
    h.clock.advance(30)
    h.ctl.leases.indexer.add(lease("n1", "2025-01-01T00:00:30.000000Z"))
    await h.ctl.sync_node("n1")
    h.clock.advance(30)
    fresh = node()
    fresh["status"]["conditions"][0]["lastHeartbeatTime"] = "2025-01-01T00:01:00Z"
    h.ctl.nodes.indexer.add(fresh)
    await h.ctl.sync_node("n1")
    h.clock.advance(39)
    await h.ctl.sync_node("n1")
    assert h.client.writes == []
    h.clock.advance(1)
    await h.ctl.sync_node("n1")
    assert len(h.client.of("update_status", "nodes")) == 1


async def test_a_stale_lease_does_not_count_as_a_heartbeat() -> None:
    h = Harness(node())
    h.ctl.leases.indexer.add(lease("n1", "2025-01-01T00:00:00.000000Z"))
    await h.ctl.sync_node("n1")
    h.clock.advance(20)
    h.ctl.leases.indexer.add(lease("n1", "2025-01-01T00:00:00.000000Z"))
    await h.ctl.sync_node("n1")
    h.clock.advance(20)
    await h.ctl.sync_node("n1")
    assert len(h.client.of("update_status", "nodes")) == 1


async def test_node_that_never_posted_status_gets_the_startup_grace_period() -> None:
    h = Harness(node(ready=None), node("healthy"), pods=[pod("p", node="n1")])
    h.clock.advance(59)
    await h.ctl.sync_node("n1")
    await h.ctl.sync_pod("ns/p")
    assert h.client.writes == []  # no condition, no taint, pods left alone
    h.clock.advance(1)
    await h.ctl.sync_node("n1")
    (status,) = h.client.of("update_status", "nodes")
    ready = next(c for c in status["status"]["conditions"] if c["type"] == "Ready")
    assert ready["reason"] == "NodeStatusNeverUpdated"
    assert ready["message"] == "Kubelet never posted node status."


async def test_not_ready_and_pressure_conditions_taint_the_node() -> None:
    n = node(ready="False", taints=[{"key": "user", "effect": "NoSchedule"}])
    n["status"]["conditions"][1]["status"] = "True"
    n["spec"]["unschedulable"] = True
    h = Harness(n, node("healthy"))
    await h.ctl.sync_node("n1")
    (taints,) = h.taint_writes()
    assert taints == [
        {"key": "user", "effect": "NoSchedule"},
        {"key": NOT_READY, "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/memory-pressure", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
        {"key": NOT_READY, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:00Z"},
    ]


async def test_taints_go_when_the_node_is_ready_again_and_unchanged_taints_are_not_rewritten() -> (
    None
):
    old = [
        {"key": "user", "effect": "NoExecute"},
        {"key": UNREACHABLE, "effect": "NoSchedule"},
        {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2024-12-31T00:00:00Z"},
    ]
    h = Harness(node(taints=old), node("healthy"))
    await h.ctl.sync_node("n1")
    assert h.taint_writes() == [[{"key": "user", "effect": "NoExecute"}]]
    h.client.writes.clear()
    h.ctl.nodes.indexer.add(node(ready="Unknown", taints=old[1:]))
    await h.ctl.sync_node("n1")
    assert h.client.writes == []


async def test_pods_on_a_not_ready_node_are_marked_not_ready() -> None:
    h = Harness(node(ready="Unknown"), pods=[pod("p", node="n1")])
    h.ctl.pods.indexer.get("ns/p")["spec"]["tolerations"] = [  # type: ignore[index]
        {"key": UNREACHABLE, "operator": "Exists", "effect": "NoExecute"}
    ]
    await h.ctl.sync_pod("ns/p")
    (written,) = h.client.of("update_status", "pods")
    (ready,) = written["status"]["conditions"]
    assert (ready["type"], ready["status"]) == ("Ready", "False")
    assert ("Warning", "NodeNotReady", "Node is not ready") in h.recorder.events
    assert h.client.of("delete", "pods") == []


def exposed_pod(tolerations: list[Obj] | None) -> Obj:
    p = pod("p", node="n1", ready=False)
    if tolerations is not None:
        p["spec"]["tolerations"] = tolerations
    return p


TAINTED = [{"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:00Z"}]


async def test_a_pod_without_a_matching_toleration_is_evicted_at_once() -> None:
    h = Harness(node(ready="Unknown", taints=TAINTED), pods=[exposed_pod(None)])
    await h.ctl.sync_pod("ns/p")
    (status,) = h.client.of("update_status", "pods")
    target = next(c for c in status["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert target["reason"] == "DeletionByTaintManager"
    assert target["message"] == "Taint manager: deleting due to NoExecute taint"
    assert h.client.of("delete", "pods") == ["p"]


async def test_a_pod_is_evicted_after_its_toleration_seconds() -> None:
    toleration = {
        "key": UNREACHABLE,
        "operator": "Exists",
        "effect": "NoExecute",
        "tolerationSeconds": 300,
    }
    h = Harness(node(ready="Unknown", taints=TAINTED), pods=[exposed_pod([toleration])])
    await h.ctl.sync_pod("ns/p")
    assert h.recorder.events == []
    h.clock.advance(299)
    assert len(h.ctl.pod_queue) == 0
    await h.ctl.sync_pod("ns/p")
    assert h.client.of("delete", "pods") == []
    h.clock.advance(1)
    assert len(h.ctl.pod_queue) == 1
    await h.ctl.sync_pod("ns/p")
    assert h.client.of("delete", "pods") == ["p"]
    assert "ns/p" not in h.ctl.evictions
    assert h.recorder.events == [
        ("Normal", "TaintManagerEviction", "Marking for deletion Pod ns/p")
    ]


async def test_eviction_is_cancelled_when_the_taint_goes_and_forever_tolerations_never_evict() -> (
    None
):
    short = {"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 10}
    h = Harness(node(ready="Unknown", taints=TAINTED), pods=[exposed_pod([short])])
    await h.ctl.sync_pod("ns/p")
    h.ctl.nodes.indexer.add(node())
    await h.ctl.sync_pod("ns/p")
    assert (
        "Normal",
        "TaintManagerEviction",
        "Cancelling deletion of Pod ns/p",
    ) in h.recorder.events
    assert h.ctl.evictions == {}
    forever = {"operator": "Exists"}
    h.ctl.nodes.indexer.add(node(ready="Unknown", taints=TAINTED))
    h.ctl.pods.indexer.add(exposed_pod([forever]))
    h.clock.advance(100_000)
    await h.ctl.sync_pod("ns/p")
    assert h.client.of("delete", "pods") == []


async def test_the_shortest_toleration_of_several_taints_wins() -> None:
    taints = [*TAINTED, {"key": "maintenance", "value": "yes", "effect": "NoExecute"}]
    tolerations = [
        {"key": UNREACHABLE, "operator": "Exists", "tolerationSeconds": 60},
        {"key": "maintenance", "operator": "Equal", "value": "yes", "tolerationSeconds": 5},
    ]
    h = Harness(node(ready="Unknown", taints=taints), pods=[exposed_pod(tolerations)])
    await h.ctl.sync_pod("ns/p")
    h.clock.advance(5)
    await h.ctl.sync_pod("ns/p")
    assert h.client.of("delete", "pods") == ["p"]


async def test_handlers_enqueue_pods_of_a_node_whose_taints_change() -> None:
    h = Harness(node(), pods=[pod("p", node="n1"), pod("q", node="n2")])
    h.ctl._node_updated(node(), node(taints=TAINTED))
    assert len(h.ctl.pod_queue) == 1
    assert len(h.ctl.node_queue) == 1


def zoned(name: str, ready: str, zone: str = "z1", taints: list[Obj] | None = None) -> Obj:
    n = node(name, ready=ready, taints=taints)
    n["metadata"]["labels"] = {"topology.kubernetes.io/zone": zone}
    return n


async def test_full_disruption_mode_adds_no_no_execute_taint_and_removes_them() -> None:
    h = Harness(
        zoned("a", "Unknown", "z1", taints=TAINTED),
        zoned("b", "Unknown", "z2"),
        zoned("c", "False"),
    )
    for name in ("a", "b", "c"):
        await h.ctl.sync_node(name)
    assert h.ctl.full_disruption
    written = {
        n["metadata"]["name"]: n["spec"].get("taints") for n in h.client.of("update", "nodes")
    }
    assert written == {
        "a": [{"key": UNREACHABLE, "effect": "NoSchedule"}],
        "b": [{"key": UNREACHABLE, "effect": "NoSchedule"}],
        "c": [{"key": NOT_READY, "effect": "NoSchedule"}],
    }
    # One node of one zone comes back: the others get their NoExecute taints again,
    # and every node's grace period starts afresh.
    h.ctl.nodes.indexer.add(zoned("c", "True"))
    h.client.writes.clear()
    h.clock.advance(10)
    await h.ctl.sync_node("b")
    assert not h.ctl.full_disruption
    (b,) = h.client.of("update", "nodes")
    assert {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:10Z"} in b[
        "spec"
    ]["taints"]


async def test_new_no_execute_taints_are_paced_per_zone() -> None:
    healthy = [zoned(f"ok{i}", "True") for i in range(3)]
    h = Harness(zoned("a", "Unknown"), zoned("b", "Unknown"), zoned("c", "Unknown", "z2"), *healthy)
    h.ctl.nodes.indexer.add(zoned("ok-z2", "True", "z2"))

    def no_execute() -> list[str]:
        return [
            n["metadata"]["name"]
            for n in h.client.of("update", "nodes")
            if any(t["effect"] == "NoExecute" for t in n["spec"]["taints"])
        ]

    for name in ("a", "b", "c"):
        await h.ctl.sync_node(name)
    assert no_execute() == ["a", "c"]  # one per zone at once; b waits for z1's next token
    h.ctl.nodes.indexer.add(h.client.of("update", "nodes")[1])  # b, with NoSchedule only
    h.clock.advance(4.9)
    assert len(h.ctl.node_queue) == 0
    h.clock.advance(0.1)  # the node monitor period: b is tried again, still too early
    assert len(h.ctl.node_queue) == 1
    await h.ctl.sync_node("b")
    assert no_execute() == ["a", "c"]
    h.clock.advance(5)
    await h.ctl.sync_node("b")
    assert no_execute() == ["a", "c", "b"]
    last = h.client.of("update", "nodes")[-1]["spec"]["taints"]
    assert {"key": UNREACHABLE, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:10Z"} in last


async def test_a_partially_disrupted_small_zone_stops_tainting() -> None:
    down = [zoned(f"d{i}", "Unknown") for i in range(3)]
    h = Harness(*down, zoned("up", "True"))
    await h.ctl.sync_node("d0")
    (written,) = h.client.of("update", "nodes")
    assert written["spec"]["taints"] == [{"key": UNREACHABLE, "effect": "NoSchedule"}]


async def test_swapping_not_ready_for_unreachable_is_not_paced() -> None:
    not_ready = [{"key": NOT_READY, "effect": "NoExecute", "timeAdded": "2025-01-01T00:00:00Z"}]
    h = Harness(zoned("a", "Unknown", taints=not_ready), zoned("b", "Unknown"), zoned("ok", "True"))
    await h.ctl.sync_node("b")
    await h.ctl.sync_node("a")
    taints = {n["metadata"]["name"]: n["spec"]["taints"] for n in h.client.of("update", "nodes")}
    assert {
        "key": UNREACHABLE,
        "effect": "NoExecute",
        "timeAdded": "2025-01-01T00:00:00Z",
    } in taints["a"]


async def test_full_disruption_mode_ends_when_any_node_turns_ready() -> None:
    h = Harness(zoned("a", "Unknown"), zoned("b", "Unknown"))
    h.ctl.nodes.has_synced.set()
    await h.ctl.sync_node("a")
    assert h.ctl.full_disruption
    h.ctl.nodes.indexer.add(zoned("a", "True"))
    h.ctl.nodes.indexer.add(zoned("b", "True"))
    h.ctl._node_updated(zoned("a", "Unknown"), zoned("a", "True"))
    assert not h.ctl.full_disruption


async def test_nodes_excluded_from_disruption_checks_do_not_count() -> None:
    excluded = zoned("control-plane", "True")
    excluded["metadata"]["labels"]["node.kubernetes.io/exclude-disruption"] = ""
    h = Harness(zoned("a", "Unknown"), excluded)
    await h.ctl.sync_node("a")
    assert h.ctl.full_disruption  # the only counted node is down
