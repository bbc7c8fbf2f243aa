"""Scheduler core benchmark: `schedule_one` (PreFilter, Filter, Score, select) in-process.

Usage: .venv/bin/python benchmarks/scheduler_core.py [--nodes 5000] [--pods 2000]
                                                     [--warmup 100]

Builds a snapshot of `--nodes` nodes (zones, instance types, a few tainted control-plane
and GPU nodes, cached images), then schedules `--pods` pods of mixed shapes (plain
requests, nodeSelector, required and preferred node affinity, tolerations, host
ports), each assumed onto its chosen node (`add_pod`) before the next, as the real
scheduler does, once with percentageOfNodesToScore 0 (Kubernetes' adaptive default:
10% of 5,000 nodes are scored) and once with 100 (every feasible node scored, the worst
case). Prints µs per pod (schedule_one + add_pod), the per-plugin split over all nodes,
and Kubernetes' published anchor beside it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kybernetes.scheduler.configuration import API_VERSION, KIND, load_configuration
from kybernetes.scheduler.framework import Code, CycleState
from kybernetes.scheduler.plugins import in_tree_registry
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.profile import Profile, build_profile
from kybernetes.scheduler.schedule import schedule_one
from kybernetes.scheduler.snapshot import NodeSnapshot

ANCHOR = "Kubernetes SchedulingBasic goal: 680 pods/s at 5,000 nodes (1,470 µs/pod)"
ZONES = [f"zone-{z}" for z in "abcdef"]
TYPES = ["m5.large", "m5.xlarge", "c5.2xlarge", "r5.4xlarge"]


def make_node(i: int) -> dict[str, Any]:
    taints = []
    if i < 3:
        taints.append({"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"})
    elif i % 50 == 0:
        taints.append({"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"})
    elif i % 7 == 0:
        taints.append({"key": "spot", "value": "true", "effect": "PreferNoSchedule"})
    extra = {"nvidia.com/gpu": "8"} if i % 50 == 0 else {}
    return {
        "metadata": {
            "name": f"node-{i:05}",
            "labels": {
                "kubernetes.io/hostname": f"node-{i:05}",
                "topology.kubernetes.io/zone": ZONES[i % len(ZONES)],
                "node.kubernetes.io/instance-type": TYPES[i % len(TYPES)],
                "kubernetes.io/os": "linux",
            },
        },
        "spec": {"taints": taints},
        "status": {
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110", **extra},
            "images": [
                {"names": ["registry.local/app:v1"], "sizeBytes": 300_000_000},
                {"names": ["registry.local/base:latest"], "sizeBytes": 80_000_000},
            ]
            if i % 3 == 0
            else [],
        },
    }


def make_pod(i: int) -> PodInfo:
    container: dict[str, Any] = {
        "name": "app",
        "image": "registry.local/app:v1",
        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}},
    }
    spec: dict[str, Any] = {"containers": [container]}
    kind = i % 5
    if kind == 1:
        spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
    elif kind == 2:
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {
                                    "key": "topology.kubernetes.io/zone",
                                    "operator": "In",
                                    "values": ZONES[:3],
                                }
                            ]
                        }
                    ]
                },
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 10,
                        "preference": {
                            "matchExpressions": [
                                {
                                    "key": "node.kubernetes.io/instance-type",
                                    "operator": "In",
                                    "values": ["c5.2xlarge"],
                                }
                            ]
                        },
                    }
                ],
            }
        }
    elif kind == 3:
        spec["tolerations"] = [{"key": "spot", "operator": "Exists"}]
    elif kind == 4 and i % 20 == 4:
        container["ports"] = [{"containerPort": 80, "hostPort": 8000 + i % 50}]
    metadata = {"name": f"pod-{i}", "namespace": "bench", "uid": f"uid-{i}", "resourceVersion": "1"}
    return pod_info({"metadata": metadata, "spec": spec})


def phases(snapshot: NodeSnapshot, pods: list[PodInfo], profile: Profile) -> dict[str, float]:
    """Median µs per pod of each Filter/Score plugin over all nodes."""
    import numpy as np

    times: dict[str, list[float]] = {}
    every = np.flatnonzero(snapshot.present)
    for pod in pods:
        state = CycleState()
        for pre_filter in profile.pre_filter:
            start = time.perf_counter()
            if pre_filter.pre_filter(state, pod, snapshot).code is Code.SKIP:
                state.skip_filter_plugins.add(pre_filter.name)
            times.setdefault(f"prefilter {pre_filter.name}", []).append(time.perf_counter() - start)
        for plugin in profile.filter:
            if plugin.name in state.skip_filter_plugins:
                continue
            start = time.perf_counter()
            plugin.filter(state, pod, snapshot)
            times.setdefault(f"filter {plugin.name}", []).append(time.perf_counter() - start)
        for pre_score in profile.pre_score:
            if pre_score.pre_score(state, pod, snapshot, every).code is Code.SKIP:
                state.skip_score_plugins.add(pre_score.name)
        for scorer in profile.score:
            if scorer.plugin.name in state.skip_score_plugins:
                continue
            start = time.perf_counter()
            scores = scorer.plugin.score(state, pod, snapshot, every)
            if scorer.normalizer is not None:
                scorer.normalizer.normalize_score(state, pod, scores)
            times.setdefault(f"score {scorer.plugin.name}", []).append(time.perf_counter() - start)
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def run(args: argparse.Namespace, percentage: int) -> tuple[list[float], NodeSnapshot, Profile]:
    """Schedule `args.pods` pods (after `args.warmup` untimed ones); seconds per pod."""
    snapshot = NodeSnapshot()
    for i in range(args.nodes):
        snapshot.add_node(make_node(i))
    config = load_configuration(
        {"apiVersion": API_VERSION, "kind": KIND, "percentageOfNodesToScore": percentage}
    )
    profile = build_profile(config.profiles[0], in_tree_registry())
    pods = [make_pod(i) for i in range(args.warmup + args.pods)]
    rng = random.Random(1)
    per_pod: list[float] = []
    start_index = 0
    for pod in pods:
        start = time.perf_counter()
        result = schedule_one(snapshot, pod, profile, rng, start_index=start_index)
        if result.node is None:
            raise SystemExit(f"unexpectedly unschedulable: {result.message}")
        snapshot.add_pod(pod, result.node)
        per_pod.append(time.perf_counter() - start)
        start_index += result.evaluated_nodes
    return per_pod[args.warmup :], snapshot, profile


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    print(f"scheduler core: {args.nodes} nodes, {args.pods} pods (+{args.warmup} warm-up)")
    print(
        f"  {'percentageOfNodesToScore':<28}{'mean µs':>10}{'p50 µs':>10}{'p99 µs':>10}"
        f"{'pods/s':>10}"
    )
    for percentage in (0, 100):
        per_pod, snapshot, profile = run(args, percentage)
        micros = sorted(t * 1e6 for t in per_pod)
        mean = statistics.fmean(micros)
        p99 = micros[min(len(micros) - 1, len(micros) * 99 // 100)]
        label = f"{percentage} (adaptive)" if percentage == 0 else str(percentage)
        print(
            f"  {label:<28}{mean:>10.0f}{statistics.median(micros):>10.0f}{p99:>10.0f}"
            f"{1e6 / mean:>10,.0f}"
        )
    print(f"  per plugin, all {args.nodes} nodes (median µs per pod):")
    for name, value in phases(snapshot, [make_pod(i) for i in range(200)], profile).items():
        print(f"    {name:<42}{value:>8.1f}")
    print(f"  total benchmark time: {time.perf_counter() - started:.1f} s, one core")
    print(f"  anchor: {ANCHOR}")


if __name__ == "__main__":
    main()
