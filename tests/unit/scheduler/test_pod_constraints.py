"""InterPodAffinity, PodTopologySpread and DefaultPreemption against Kubernetes' rules."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kybernetes.api.selectors import selector_from_set
from kybernetes.scheduler.configuration import load_configuration
from kybernetes.scheduler.framework import Code, CycleState
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.plugins.defaultpreemption import VICTIMS_KEY
from kybernetes.scheduler.plugins.interpodaffinity import (
    ERR_AFFINITY,
    ERR_ANTI_AFFINITY,
    ERR_EXISTING_ANTI_AFFINITY,
    InterPodAffinity,
)
from kybernetes.scheduler.plugins.podtopologyspread import (
    ERR_CONSTRAINTS,
    ERR_MISSING_LABEL,
    PodTopologySpread,
)
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.profile import build_profile
from kybernetes.scheduler.schedule import schedule_one
from kybernetes.scheduler.snapshot import NodeSnapshot

from .helpers import all_slots, names, node, reasons, snapshot_of

HOST = "kubernetes.io/hostname"
ZONE = "topology.kubernetes.io/zone"


def zoned(name: str, zone: str | None, **kwargs: Any) -> dict[str, Any]:
    labels = {HOST: name, **({ZONE: zone} if zone else {})}
    return node(name, labels=labels, **kwargs)


def make_pod(
    name: str,
    labels: Mapping[str, str] | None = None,
    *,
    namespace: str = "default",
    cpu: str = "",
    priority: int = 0,
    affinity: Mapping[str, Any] | None = None,
    spread: Sequence[Mapping[str, Any]] = (),
    owner: tuple[str, str] | None = None,
    extra_spec: Mapping[str, Any] | None = None,
) -> PodInfo:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if cpu:
        container["resources"] = {"requests": {"cpu": cpu}}
    spec: dict[str, Any] = {"containers": [container], "priority": priority}
    if affinity:
        spec["affinity"] = dict(affinity)
    if spread:
        spec["topologySpreadConstraints"] = list(spread)
    spec.update(extra_spec or {})
    metadata: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "uid": f"uid-{name}",
        "labels": dict(labels or {}),
    }
    if owner:
        metadata["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    return pod_info({"metadata": metadata, "spec": spec})


def term(labels: Mapping[str, str], key: str, **extra: Any) -> dict[str, Any]:
    return {"labelSelector": {"matchLabels": dict(labels)}, "topologyKey": key, **extra}


def place(snapshot: NodeSnapshot, node_name: str, *pods: PodInfo) -> None:
    for p in pods:
        snapshot.add_pod(p, node_name)


def run_filter(plugin: Any, snapshot: NodeSnapshot, pod: PodInfo) -> tuple[Code, Any]:
    state = CycleState()
    status = plugin.pre_filter(state, pod, snapshot)
    if status.code is Code.SKIP:
        return status.code, None
    return status.code, plugin.filter(state, pod, snapshot)


def run_score(plugin: Any, snapshot: NodeSnapshot, pod: PodInfo) -> dict[str, int] | None:
    state, nodes = CycleState(), all_slots(snapshot)
    if plugin.pre_score(state, pod, snapshot, nodes).code is Code.SKIP:
        return None
    scores = plugin.normalize_score(state, pod, plugin.score(state, pod, snapshot, nodes))
    return {str(snapshot.names[slot]): int(s) for slot, s in zip(nodes, scores, strict=True)}


# -- InterPodAffinity ----------------------------------------------------------------------


def test_anti_affinity_keeps_replicas_apart() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"))
    place(snapshot, "a", make_pod("web-1", {"app": "web"}))
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"app": "web"}, HOST)]
        }
    }
    code, result = run_filter(
        InterPodAffinity({}), snapshot, make_pod("web-2", {"app": "web"}, affinity=anti)
    )
    assert code is Code.SUCCESS
    assert names(snapshot, result.feasible) == ["b"]
    assert reasons(snapshot, result) == {ERR_ANTI_AFFINITY: ["a"]}
    # with a zone key, the whole zone is excluded
    anti_zone = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"app": "web"}, ZONE)]
        }
    }
    _, result = run_filter(
        InterPodAffinity({}), snapshot, make_pod("web-3", {"app": "web"}, affinity=anti_zone)
    )
    assert names(snapshot, result.feasible) == []


def test_existing_pods_anti_affinity_rejects_matching_newcomers() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z2"))
    loner = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"role": "noisy"}, ZONE)]
        }
    }
    place(snapshot, "a", make_pod("quiet", {"role": "quiet"}, affinity=loner))
    code, result = run_filter(InterPodAffinity({}), snapshot, make_pod("n", {"role": "noisy"}))
    assert code is Code.SUCCESS
    assert reasons(snapshot, result) == {ERR_EXISTING_ANTI_AFFINITY: ["a"]}
    # a pod the term does not select is not affected, and the plugin skips it
    code, _ = run_filter(InterPodAffinity({}), snapshot, make_pod("o", {"role": "other"}))
    assert code is Code.SKIP


def test_required_affinity_follows_the_domain_and_is_unresolvable() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2"), zoned("d", None))
    place(snapshot, "a", make_pod("cache", {"app": "cache"}))
    near = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"app": "cache"}, ZONE)]
        }
    }
    _, result = run_filter(
        InterPodAffinity({}), snapshot, make_pod("web", {"app": "web"}, affinity=near)
    )
    assert names(snapshot, result.feasible) == ["a", "b"]
    assert reasons(snapshot, result) == {ERR_AFFINITY: ["c", "d"]}
    assert all(r.code is Code.UNSCHEDULABLE_AND_UNRESOLVABLE for r in result.rejections[:1])


def test_first_pod_of_a_self_affine_group_may_go_anywhere_with_the_key() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z2"), zoned("c", None))
    together = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"group": "g"}, ZONE)]
        }
    }
    first = make_pod("g-1", {"group": "g"}, affinity=together)
    _, result = run_filter(InterPodAffinity({}), snapshot, first)
    assert names(snapshot, result.feasible) == ["a", "b"]
    place(snapshot, "b", first)
    _, result = run_filter(
        InterPodAffinity({}), snapshot, make_pod("g-2", {"group": "g"}, affinity=together)
    )
    assert names(snapshot, result.feasible) == ["b"]


def test_terms_count_only_their_namespaces() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z2"))
    place(snapshot, "a", make_pod("web", {"app": "web"}, namespace="other"))
    anti = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"app": "web"}, HOST)]
        }
    }
    _, result = run_filter(InterPodAffinity({}), snapshot, make_pod("x", affinity=anti))
    assert names(snapshot, result.feasible) == ["a", "b"]
    snapshot.namespace_labels.update({"other": {"team": "t"}, "default": {}})
    anti_selected = {
        "podAntiAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [
                term({"app": "web"}, HOST, namespaceSelector={"matchLabels": {"team": "t"}})
            ]
        }
    }
    _, result = run_filter(InterPodAffinity({}), snapshot, make_pod("y", affinity=anti_selected))
    assert names(snapshot, result.feasible) == ["b"]


def test_preferred_affinity_scores_the_domain_and_counts_follow_pods() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2"))
    prefer = {
        "podAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {"weight": 10, "podAffinityTerm": term({"app": "cache"}, ZONE)}
            ]
        }
    }
    incoming = make_pod("web", affinity=prefer)
    assert run_score(InterPodAffinity({}), snapshot, incoming) == {"a": 0, "b": 0, "c": 0}
    cache = make_pod("cache", {"app": "cache"})
    place(snapshot, "c", cache)
    assert run_score(InterPodAffinity({}), snapshot, incoming) == {"a": 0, "b": 0, "c": 100}
    snapshot.remove_pod(cache.key)
    place(snapshot, "a", cache)
    assert run_score(InterPodAffinity({}), snapshot, incoming) == {"a": 100, "b": 100, "c": 0}


def test_existing_required_affinity_attracts_with_hard_weight() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z2"))
    wants_db = {
        "podAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": [term({"app": "db"}, ZONE)]
        }
    }
    place(snapshot, "b", make_pod("app", {"app": "web"}, affinity=wants_db))
    scores = run_score(InterPodAffinity({}), snapshot, make_pod("db", {"app": "db"}))
    assert scores == {"a": 0, "b": 100}
    assert (
        run_score(
            InterPodAffinity({"hardPodAffinityWeight": 0}), snapshot, make_pod("db2", {"app": "db"})
        )
        is None
    )


# -- PodTopologySpread ---------------------------------------------------------------------


def spread(max_skew: int, key: str, when: str = "DoNotSchedule", **extra: Any) -> dict[str, Any]:
    return {
        "maxSkew": max_skew,
        "topologyKey": key,
        "whenUnsatisfiable": when,
        "labelSelector": {"matchLabels": {"app": "web"}},
        **extra,
    }


def test_spread_rejects_the_crowded_zone_and_nodes_without_the_key() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"), zoned("c", "z2"), zoned("d", None))
    place(snapshot, "a", make_pod("w1", {"app": "web"}))
    place(snapshot, "b", make_pod("w2", {"app": "web"}))
    place(snapshot, "c", make_pod("other", {"app": "db"}))
    incoming = make_pod("w3", {"app": "web"}, spread=[spread(1, ZONE)])
    code, result = run_filter(PodTopologySpread({}), snapshot, incoming)
    assert code is Code.SUCCESS
    assert names(snapshot, result.feasible) == ["c"]
    assert reasons(snapshot, result) == {ERR_CONSTRAINTS: ["a", "b"], ERR_MISSING_LABEL: ["d"]}
    # skew in z1 would be 2 + 1 - 0 = 3: maxSkew 3 allows it
    _, result = run_filter(
        PodTopologySpread({}), snapshot, make_pod("w4", {"app": "web"}, spread=[spread(3, ZONE)])
    )
    assert names(snapshot, result.feasible) == ["a", "b", "c"]


def test_spread_counts_terminating_pods_not_and_other_namespaces_not() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("c", "z2"))
    place(snapshot, "a", make_pod("w1", {"app": "web"}, namespace="elsewhere"))
    gone = pod_info(
        {
            "metadata": {
                "name": "w2",
                "namespace": "default",
                "uid": "uid-w2",
                "labels": {"app": "web"},
                "deletionTimestamp": "2026-01-01T00:00:00Z",
            },
            "spec": {"containers": [{"name": "c", "image": "x"}]},
        }
    )
    place(snapshot, "a", gone)
    _, result = run_filter(
        PodTopologySpread({}), snapshot, make_pod("w3", {"app": "web"}, spread=[spread(1, ZONE)])
    )
    assert names(snapshot, result.feasible) == ["a", "c"]


def test_min_domains_treats_the_global_minimum_as_zero() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"))
    place(snapshot, "a", make_pod("w1", {"app": "web"}))
    loose = make_pod("w2", {"app": "web"}, spread=[spread(1, ZONE)])
    assert names(snapshot, run_filter(PodTopologySpread({}), snapshot, loose)[1].feasible) == [
        "a",
        "b",
    ]
    strict = make_pod("w3", {"app": "web"}, spread=[spread(1, ZONE, minDomains=2)])
    assert names(snapshot, run_filter(PodTopologySpread({}), snapshot, strict)[1].feasible) == []


def test_node_affinity_policy_limits_the_counted_domains() -> None:
    snapshot = snapshot_of(
        zoned("a", "z1"), node("b", labels={HOST: "b", ZONE: "z2", "gpu": "yes"})
    )
    place(snapshot, "b", make_pod("w1", {"app": "web"}))
    selector = {"nodeSelector": {"gpu": "yes"}}
    honor = make_pod("w2", {"app": "web"}, spread=[spread(1, ZONE)], extra_spec=selector)
    # only z2 is eligible: its count is the minimum, so b stays feasible
    assert names(snapshot, run_filter(PodTopologySpread({}), snapshot, honor)[1].feasible) == [
        "a",
        "b",
    ]
    ignore = make_pod(
        "w3",
        {"app": "web"},
        spread=[spread(1, ZONE, nodeAffinityPolicy="Ignore")],
        extra_spec=selector,
    )
    assert names(snapshot, run_filter(PodTopologySpread({}), snapshot, ignore)[1].feasible) == ["a"]


def test_schedule_anyway_prefers_the_emptier_domain() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z2"), zoned("c", None))
    place(snapshot, "a", make_pod("w1", {"app": "web"}), make_pod("w2", {"app": "web"}))
    incoming = make_pod("w3", {"app": "web"}, spread=[spread(1, ZONE, "ScheduleAnyway")])
    assert run_filter(PodTopologySpread({}), snapshot, incoming)[0] is Code.SKIP
    scores = run_score(PodTopologySpread({}), snapshot, incoming)
    assert scores is not None
    assert scores["b"] == 100 and scores["a"] < scores["b"] and scores["c"] == 0


def test_system_default_constraints_spread_a_replicaset() -> None:
    snapshot = snapshot_of(zoned("a", "z1"), zoned("b", "z1"))
    snapshot.workload_selectors["default"] = {
        ("ReplicaSet", "web"): selector_from_set({"app": "web"})
    }
    owned = {"owner": ("ReplicaSet", "web")}
    place(
        snapshot,
        "a",
        make_pod("w1", {"app": "web"}, **owned),
        make_pod("w2", {"app": "web"}, **owned),
    )  # type: ignore[arg-type]
    scores = run_score(
        PodTopologySpread({}), snapshot, make_pod("w3", {"app": "web"}, owner=("ReplicaSet", "web"))
    )
    assert scores is not None and scores["b"] > scores["a"]
    # no owner, no service: nothing to spread
    assert run_score(PodTopologySpread({}), snapshot, make_pod("x", {"app": "web"})) is None


# -- DefaultPreemption ---------------------------------------------------------------------


def default_profile() -> Any:
    return build_profile(load_configuration(None).profiles[0], in_tree_registry())


def test_preemption_picks_the_cheapest_victims() -> None:
    snapshot = snapshot_of(zoned("a", "z1", cpu="4"), zoned("b", "z1", cpu="4"))
    place(snapshot, "a", make_pod("low-a", cpu="3", priority=10))
    place(
        snapshot,
        "b",
        make_pod("low-b1", cpu="1", priority=5),
        make_pod("low-b2", cpu="2", priority=1),
    )
    result = schedule_one(
        snapshot, make_pod("vip", cpu="3", priority=100), default_profile(), random.Random(0)
    )
    assert result.node is None and result.nominated_node == "b"
    assert result.state is not None
    victims = result.state.get(VICTIMS_KEY)
    assert [v.name for v in victims] == ["low-b2"]  # type: ignore[attr-defined]
    # the snapshot is left as it was
    assert sorted(p.name for p in snapshot.pods_on(snapshot.slots["b"])) == ["low-b1", "low-b2"]
    assert np.array_equal(snapshot.pod_count[[snapshot.slots["a"], snapshot.slots["b"]]], [1, 2])


def test_preemption_respects_disruption_budgets() -> None:
    snapshot = snapshot_of(zoned("a", "z1", cpu="2"), zoned("b", "z2", cpu="2"))
    place(snapshot, "a", make_pod("guarded", {"app": "db"}, cpu="2", priority=1))
    place(snapshot, "b", make_pod("free", {"app": "batch"}, cpu="2", priority=1))
    snapshot.pdbs["default/db"] = {
        "metadata": {"name": "db", "namespace": "default"},
        "spec": {"selector": {"matchLabels": {"app": "db"}}},
        "status": {"disruptionsAllowed": 0},
    }
    for seed in range(4):
        result = schedule_one(
            snapshot, make_pod("vip", cpu="2", priority=100), default_profile(), random.Random(seed)
        )
        assert result.nominated_node == "b"


def test_preemption_messages() -> None:
    snapshot = snapshot_of(zoned("a", "z1", cpu="1"))
    place(snapshot, "a", make_pod("peer", cpu="1", priority=100))
    result = schedule_one(
        snapshot, make_pod("same", cpu="1", priority=100), default_profile(), random.Random(0)
    )
    assert result.message == (
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
        "1 No preemption victims found for incoming pod.."
    )
    never = make_pod("never", cpu="1", priority=1000, extra_spec={"preemptionPolicy": "Never"})
    result = schedule_one(snapshot, never, default_profile(), random.Random(0))
    assert result.message.endswith(" preemption: not eligible due to preemptionPolicy=Never..")
    assert result.nominated_node is None
