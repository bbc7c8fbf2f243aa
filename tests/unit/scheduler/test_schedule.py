"""schedule_one end to end, and the FailedScheduling message."""

from __future__ import annotations

import random

import numpy as np

from kybernetes.scheduler.configuration import API_VERSION, KIND, load_configuration
from kybernetes.scheduler.framework import Code, Mask, Status
from kybernetes.scheduler.messages import fit_error_message
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.profile import Profile, build_profile
from kybernetes.scheduler.schedule import num_feasible_nodes_to_find, schedule_one
from kybernetes.scheduler.snapshot import NodeSnapshot

from .helpers import node, pod, snapshot_of

CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def default_profile() -> Profile:
    return build_profile(load_configuration(None).profiles[0], in_tree_registry())


def test_message_sorts_reasons_as_strings() -> None:
    counts = {"Insufficient cpu": 1, "node(s) were unschedulable": 10, "Too many pods": 2}
    assert fit_error_message(13, counts) == (
        "0/13 nodes are available: 1 Insufficient cpu, 10 node(s) were unschedulable, "
        "2 Too many pods."
    )
    assert fit_error_message(3, counts, pre_filter_message="boom", post_filter_message="p: x") == (
        "0/3 nodes are available: boom. p: x."
    )


def test_failed_scheduling_message_as_kubernetes_prints_it() -> None:
    snapshot = snapshot_of(
        node("worker", cpu="1"),
        node("cp1", taints=[CONTROL_PLANE]),
        node("cp2", cpu="1", taints=[CONTROL_PLANE]),
    )
    result = schedule_one(snapshot, pod(requests={"cpu": "2"}), default_profile(), random.Random(0))
    assert result.node is None and result.status.code is Code.UNSCHEDULABLE
    assert result.message == (
        "0/3 nodes are available: 1 Insufficient cpu, "
        "2 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. "
        "preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, "
        "2 Preemption is not helpful for scheduling.."
    )


def test_no_nodes() -> None:
    result = schedule_one(snapshot_of(), pod(), default_profile(), random.Random(0))
    assert result.message == "no nodes available to schedule pods"


def test_picks_the_best_scoring_node() -> None:
    snapshot = snapshot_of(node("busy", cpu="4"), node("idle", cpu="4"), node("tiny", cpu="1"))
    snapshot.add_pod(pod("old", requests={"cpu": "3"}), "busy")
    result = schedule_one(snapshot, pod(requests={"cpu": "1"}), default_profile(), random.Random(0))
    assert (result.node, result.feasible_nodes, result.evaluated_nodes) == ("idle", 3, 3)


def test_ties_are_broken_by_the_injected_rng() -> None:
    snapshot = snapshot_of(*(node(f"n{i}") for i in range(4)))
    chosen = {
        schedule_one(snapshot, pod(), default_profile(), random.Random(seed)).node
        for seed in range(40)
    }
    assert chosen == {"n0", "n1", "n2", "n3"}
    first = schedule_one(snapshot, pod(), default_profile(), random.Random(7)).node
    assert schedule_one(snapshot, pod(), default_profile(), random.Random(7)).node == first


def test_single_feasible_node_and_prefilter_skip() -> None:
    snapshot = snapshot_of(node("a", labels={"disk": "ssd"}), node("b"))
    result = schedule_one(
        snapshot, pod(spec={"nodeSelector": {"disk": "ssd"}}), default_profile(), random.Random()
    )
    assert result.node == "a" and result.feasible_nodes == 1


def test_percentage_of_nodes_to_score() -> None:
    assert num_feasible_nodes_to_find(0, 50) == 50
    assert num_feasible_nodes_to_find(0, 5000) == 5000 * 10 // 100
    assert num_feasible_nodes_to_find(0, 10000) == 500
    assert num_feasible_nodes_to_find(1, 1000) == 100
    snapshot = snapshot_of(*(node(f"n{i:03}") for i in range(300)))
    config = load_configuration(
        {"apiVersion": API_VERSION, "kind": KIND, "percentageOfNodesToScore": 40}
    )
    profile = build_profile(config.profiles[0], in_tree_registry())
    result = schedule_one(snapshot, pod(), profile, random.Random(0), start_index=250)
    assert result.feasible_nodes == 120 and result.evaluated_nodes == 120
    slot = snapshot.slots[str(result.node)]
    assert slot >= 250 or slot < 70


class Rejecting:
    """A PreFilter plugin that rejects every pod (to exercise the PreFilter path)."""

    name = "Rejecting"

    def __init__(self, args: object) -> None:
        del args

    def pre_filter(self, state: object, pod: object, snapshot: object) -> Status:
        return Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, ("pod is not welcome",), self.name)


def test_pre_filter_rejection_message() -> None:
    registry = in_tree_registry()
    registry.register("Rejecting", Rejecting)
    config = load_configuration(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "profiles": [{"plugins": {"preFilter": {"enabled": [{"name": "Rejecting"}]}}}],
        }
    )
    profile = build_profile(config.profiles[0], registry)
    result = schedule_one(snapshot_of(node("a"), node("b")), pod(), profile, random.Random(0))
    assert result.node is None
    assert result.message == (
        "0/2 nodes are available: pod is not welcome. preemption: 0/2 nodes are available: "
        "2 Preemption is not helpful for scheduling.."
    )


class Recorder:
    """A PostFilter plugin that records its candidates and explains itself."""

    name = "Recorder"
    seen: list[str] = []

    def __init__(self, args: object) -> None:
        del args

    def post_filter(
        self, state: object, pod: object, snapshot: NodeSnapshot, candidates: Mask
    ) -> tuple[str | None, Status]:
        Recorder.seen = sorted(str(snapshot.names[i]) for i in np.flatnonzero(candidates))
        return None, Status(Code.UNSCHEDULABLE, ("preemption: not helpful",), self.name)


def test_post_filter_gets_resolvable_nodes_and_extends_the_message() -> None:
    registry = in_tree_registry()
    registry.register("Recorder", Recorder)
    config = load_configuration(
        {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "profiles": [{"plugins": {"postFilter": {"enabled": [{"name": "Recorder"}]}}}],
        }
    )
    profile = build_profile(config.profiles[0], registry)
    snapshot = snapshot_of(node("small", cpu="1"), node("cp", taints=[CONTROL_PLANE]))
    result = schedule_one(snapshot, pod(requests={"cpu": "2"}), profile, random.Random(0))
    assert Recorder.seen == ["small"]
    assert result.message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint "
        "{node-role.kubernetes.io/control-plane: }. preemption: 0/2 nodes are available: "
        "1 No preemption victims found for incoming pod, 1 Preemption is not helpful for "
        "scheduling. preemption: not helpful."
    )
