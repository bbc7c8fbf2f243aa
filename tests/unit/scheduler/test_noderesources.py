"""NodeResourcesFit and NodeResourcesBalancedAllocation against Kubernetes' own tests."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from kybernetes.scheduler.plugins.noderesources import (
    NodeResourcesBalancedAllocation,
    NodeResourcesFit,
)
from kybernetes.scheduler.podinfo import pod_info

from .helpers import all_slots, node, pod, reasons, snapshot_of, state


def two_containers() -> Any:
    """Kubernetes' score tests: 1000m+2000m cpu, 2000+3000 bytes memory."""
    return pod_info(
        {
            "metadata": {"name": "p"},
            "spec": {
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "1000m", "memory": "2000"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "2000m", "memory": "3000"}}},
                ]
            },
        }
    )


def sized_nodes() -> Any:
    return snapshot_of(
        node("node1", cpu="4000m", memory="10000"), node("node2", cpu="6000m", memory="10000")
    )


def scores(plugin: Any, snapshot: Any, p: Any) -> list[int]:
    return [int(s) for s in plugin.score(state(), p, snapshot, all_slots(snapshot))]


def test_fit_reports_each_insufficient_resource() -> None:
    snapshot = snapshot_of(
        node("small", cpu="1", memory="1Gi"),
        node("big", cpu="8", memory="32Gi"),
        node("mid", cpu="8", memory="1Gi"),
    )
    result = NodeResourcesFit({}).filter(
        state(), pod(requests={"cpu": "2", "memory": "2Gi"}), snapshot
    )
    assert reasons(snapshot, result) == {
        "Insufficient cpu": ["small"],
        "Insufficient memory": ["mid", "small"],
    }
    assert list(np.flatnonzero(result.feasible & snapshot.present)) == [1]


def test_fit_counts_existing_pods_and_pod_limit() -> None:
    snapshot = snapshot_of(node("a", cpu="2", pods=1), node("b", cpu="2", pods=5))
    snapshot.add_pod(pod("old", requests={"cpu": "1500m"}), "b")
    result = NodeResourcesFit({}).filter(state(), pod(requests={"cpu": "1"}), snapshot)
    assert reasons(snapshot, result) == {"Insufficient cpu": ["b"]}
    snapshot.add_pod(pod("other"), "a")
    result = NodeResourcesFit({}).filter(state(), pod(), snapshot)
    assert reasons(snapshot, result) == {"Too many pods": ["a"]}


def test_fit_extended_resources_and_ignored_groups() -> None:
    snapshot = snapshot_of(node("gpu", extra={"nvidia.com/gpu": "2"}), node("plain"))
    wants = pod(requests={"nvidia.com/gpu": "1", "example.com/foo": "1"})
    result = NodeResourcesFit({}).filter(state(), wants, snapshot)
    assert reasons(snapshot, result) == {
        "Insufficient nvidia.com/gpu": ["plain"],
        "Insufficient example.com/foo": ["gpu", "plain"],
    }
    ignoring = NodeResourcesFit({"ignoredResourceGroups": ["example.com"]})
    assert reasons(snapshot, ignoring.filter(state(), wants, snapshot)) == {
        "Insufficient nvidia.com/gpu": ["plain"]
    }


def test_least_allocated_matches_kubernetes() -> None:
    assert scores(NodeResourcesFit({}), sized_nodes(), two_containers()) == [37, 50]


def test_least_allocated_uses_non_zero_defaults() -> None:
    snapshot = snapshot_of(node("n", cpu="1000m", memory=str(1000 * 1024 * 1024)))
    # 100m of 1000m -> 90; 200Mi of 1000Mi -> 80
    assert scores(NodeResourcesFit({}), snapshot, pod()) == [85]


def test_most_allocated_matches_kubernetes() -> None:
    plugin = NodeResourcesFit({"scoringStrategy": {"type": "MostAllocated"}})
    assert scores(plugin, sized_nodes(), two_containers()) == [62, 50]


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ([{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}], [38, 50]),
        ([{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}], [63, 50]),
    ],
)
def test_requested_to_capacity_ratio(shape: list[dict[str, int]], expected: list[int]) -> None:
    plugin = NodeResourcesFit(
        {
            "scoringStrategy": {
                "type": "RequestedToCapacityRatio",
                "requestedToCapacityRatio": {"shape": shape},
            }
        }
    )
    assert scores(plugin, sized_nodes(), two_containers()) == expected


def test_requested_to_capacity_ratio_truncates_like_go() -> None:
    shape = [{"utilization": 0, "score": 10}, {"utilization": 30, "score": 0}]
    plugin = NodeResourcesFit(
        {
            "scoringStrategy": {
                "type": "RequestedToCapacityRatio",
                "resources": [{"name": "cpu", "weight": 1}],
                "requestedToCapacityRatio": {"shape": shape},
            }
        }
    )
    snapshot = snapshot_of(node("n", cpu="10"))
    # utilization 10: 100 + (-100 * 10) / 30 = 100 - 33 (Go truncates toward zero)
    assert scores(plugin, snapshot, pod(requests={"cpu": "1"})) == [67]


def test_unknown_strategy_is_rejected() -> None:
    with pytest.raises(ValueError, match="not supported"):
        NodeResourcesFit({"scoringStrategy": {"type": "Bogus"}})


def test_balanced_allocation_matches_kubernetes() -> None:
    plugin = NodeResourcesBalancedAllocation({})
    assert scores(plugin, sized_nodes(), two_containers()) == [87, 100]


def test_balanced_allocation_three_resources_and_best_effort_skip() -> None:
    plugin = NodeResourcesBalancedAllocation(
        {"resources": [{"name": "cpu"}, {"name": "memory"}, {"name": "nvidia.com/gpu"}]}
    )
    snapshot = snapshot_of(node("n", cpu="4", memory="4", extra={"nvidia.com/gpu": "4"}))
    p = pod(requests={"cpu": "1", "memory": "2", "nvidia.com/gpu": "3"})
    # fractions .25 .5 .75: std = sqrt(((.25)^2 + 0 + (.25)^2) / 3) = 0.2041 -> 79
    assert scores(plugin, snapshot, p) == [79]
    assert plugin.pre_score(state(), pod(), snapshot, all_slots(snapshot)).code.name == "SKIP"
