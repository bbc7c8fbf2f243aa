"""Incremental updates of the columnar node snapshot."""

from __future__ import annotations

import numpy as np

from kybernetes.scheduler.snapshot import NodeSnapshot

from .helpers import node, pod, snapshot_of


def column(snapshot: NodeSnapshot, resource: str, name: str) -> tuple[int, int]:
    index, slot = snapshot.resource_index(resource), snapshot.slots[name]
    assert index is not None
    return int(snapshot.allocatable[index, slot]), int(snapshot.requested[index, slot])


def test_pods_are_accounted_and_removed() -> None:
    snapshot = snapshot_of(node("a", cpu="2", memory="1Gi"))
    generation = snapshot.generation
    snapshot.add_pod(pod("x", requests={"cpu": "500m", "memory": "100Mi"}), "a")
    assert snapshot.generation > generation
    assert column(snapshot, "cpu", "a") == (2000, 500)
    assert column(snapshot, "memory", "a") == (2**30, 100 * 2**20)
    assert int(snapshot.pod_count[0]) == 1
    assert list(snapshot.non_zero_requested[:, 0]) == [500, 100 * 2**20]
    snapshot.add_pod(pod("x", requests={"cpu": "1"}), "a")  # an update replaces
    assert column(snapshot, "cpu", "a") == (2000, 1000)
    snapshot.remove_pod("default/x")
    snapshot.remove_pod("default/x")
    assert column(snapshot, "cpu", "a") == (2000, 0)
    assert int(snapshot.pod_count[0]) == 0


def test_pods_of_unknown_nodes_count_once_the_node_arrives() -> None:
    snapshot = NodeSnapshot()
    snapshot.add_pod(pod("x", requests={"cpu": "1", "nvidia.com/gpu": "1"}), "late")
    snapshot.add_node(node("late", extra={"nvidia.com/gpu": "4"}))
    assert column(snapshot, "cpu", "late") == (4000, 1000)
    assert column(snapshot, "nvidia.com/gpu", "late") == (4, 1)
    snapshot.update_node(node("late", cpu="8", labels={"zone": "a"}))
    assert column(snapshot, "cpu", "late") == (8000, 1000)
    assert column(snapshot, "nvidia.com/gpu", "late") == (0, 1)


def test_remove_node_frees_its_slot_and_clears_columns() -> None:
    snapshot = snapshot_of(
        node("a", labels={"zone": "x"}, taints=[{"key": "k", "effect": "NoSchedule"}]),
        node("b", labels={"zone": "y"}),
    )
    snapshot.add_pod(pod("p"), "a")
    snapshot.remove_node("a")
    snapshot.remove_node("a")
    assert snapshot.num_nodes == 1 and not snapshot.present[0]
    zone, ids = snapshot.label_column("zone")
    assert zone is not None and zone[0] == -1 and zone[1] == ids["y"]
    assert snapshot.taint_signature[0] == 0
    assert snapshot.add_node(node("c")) == 0
    assert snapshot.pod_count[0] == 0
    snapshot.add_node(node("a"))
    assert int(snapshot.pod_count[snapshot.slots["a"]]) == 1


def test_labels_are_replaced_on_update() -> None:
    snapshot = snapshot_of(node("a", labels={"zone": "x", "gpu": "yes"}))
    snapshot.update_node(node("a", labels={"zone": "y"}))
    zone, ids = snapshot.label_column("zone")
    gpu, _ = snapshot.label_column("gpu")
    assert zone is not None and gpu is not None
    assert zone[0] == ids["y"] and gpu[0] == -1
    assert snapshot.labels(0) == {"zone": "y"}


def test_growth_keeps_every_column() -> None:
    snapshot = snapshot_of(*(node(f"n{i}", labels={"i": str(i)}) for i in range(200)))
    assert snapshot.capacity >= 200 and snapshot.num_nodes == 200
    column_i, ids = snapshot.label_column("i")
    assert column_i is not None
    assert column_i[snapshot.slots["n150"]] == ids["150"]
    assert np.all(snapshot.allocatable[0, :200] == 4000)


def test_host_ports_and_images_are_indexed() -> None:
    snapshot = snapshot_of(node("a", images=[(["nginx:latest", "nginx:1"], 100)]))
    ported = pod(
        "x", spec={"containers": [{"name": "c", "ports": [{"containerPort": 1, "hostPort": 80}]}]}
    )
    snapshot.add_pod(ported, "a")
    assert snapshot.used_ports == {("TCP", 80): {0: {"0.0.0.0": 1}}}
    assert snapshot.image_nodes == {"nginx:latest": {0: 100}, "nginx:1": {0: 100}}
    snapshot.remove_pod("default/x")
    snapshot.remove_node("a")
    assert snapshot.used_ports == {} and snapshot.image_nodes == {}
