"""NodeResourcesFit and NodeResourcesBalancedAllocation, vectorised over all nodes.

Fit filter (Kubernetes' `fitsRequest`): "Too many pods" when the node already holds
`allocatable.pods` pods; then, for each resource the pod requests (effective requests,
see `podinfo`), "Insufficient <name>" when the request exceeds allocatable minus
requested. Resources named in `ignoredResources`, or whose prefix (before "/") is in
`ignoredResourceGroups`, are not checked (scalar resources only). Code Unschedulable.

Fit score (`scoringStrategy`): for each configured resource (default cpu and memory,
weight 1) the allocatable and requested amounts after placing the pod. cpu and memory
use the non-zero requests (100m / 200Mi defaults); a scalar resource the pod does not
request, or one the node lacks, is left out of the weighted mean.
- LeastAllocated: (allocatable - requested) * 100 / allocatable, 0 when over capacity;
- MostAllocated: min(requested, allocatable) * 100 / allocatable;
- RequestedToCapacityRatio: the utilization percentage mapped through the configured
  broken-line `shape` (scores 0-10 scaled by 10), resources scoring 0 left out, the
  weighted mean rounded half away from zero.
Integer arithmetic matches Go's (truncating division).

BalancedAllocation (default cpu and memory; weights ignored) scores
(1 - std(requested / allocatable fractions, capped at 1)) * 100 with actual requests;
best-effort pods (no request for the listed resources) skip it (Kubernetes 1.33).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    SUCCESS,
    CycleState,
    FilterResult,
    Indices,
    Rejection,
    Scores,
    Status,
)
from kybernetes.scheduler.podinfo import CPU, MEMORY, PodInfo, is_scalar_resource
from kybernetes.scheduler.snapshot import Int64Array, NodeSnapshot

FIT: Final = "NodeResourcesFit"
BALANCED_ALLOCATION: Final = "NodeResourcesBalancedAllocation"
LEAST_ALLOCATED: Final = "LeastAllocated"
MOST_ALLOCATED: Final = "MostAllocated"
REQUESTED_TO_CAPACITY_RATIO: Final = "RequestedToCapacityRatio"
MAX_UTILIZATION: Final = 100
MAX_CUSTOM_PRIORITY_SCORE: Final = 10
_NON_ZERO_ROW: Final = {CPU: 0, MEMORY: 1}


@dataclass(frozen=True, slots=True)
class ResourceSpec:
    name: str
    weight: int = 1


_DEFAULT_RESOURCES: Final = (ResourceSpec(CPU), ResourceSpec(MEMORY))


def _resource_specs(specs: Sequence[Mapping[str, Any]] | None) -> tuple[ResourceSpec, ...]:
    if not specs:
        return _DEFAULT_RESOURCES
    return tuple(ResourceSpec(s["name"], int(s.get("weight") or 1)) for s in specs)


def _allocatable_requested(
    snapshot: NodeSnapshot, nodes: Indices, pod: PodInfo, name: str, use_requested: bool
) -> tuple[Int64Array, Int64Array] | None:
    """`calculateResourceAllocatableRequest` for the given slots, None to skip it."""
    pod_request = (pod.requests if use_requested else pod.non_zero_requests).get(name, 0)
    index = snapshot.resource_index(name)
    if index is None or (pod_request == 0 and is_scalar_resource(name)):
        return None
    if not use_requested and name in _NON_ZERO_ROW:
        requested = snapshot.non_zero_requested[_NON_ZERO_ROW[name], nodes]
    else:
        requested = snapshot.requested[index, nodes]
    return snapshot.allocatable[index, nodes], requested + pod_request


def _go_div(numerator: Int64Array, denominator: Int64Array | int) -> Int64Array:
    """Integer division truncating toward zero, as Go's `/` (denominator > 0)."""
    return np.sign(numerator) * np.floor_divide(np.abs(numerator), denominator)


class NodeResourcesFit:
    name = FIT

    def __init__(self, args: Mapping[str, Any]) -> None:
        strategy = args.get("scoringStrategy") or {}
        self.strategy = strategy.get("type") or LEAST_ALLOCATED
        if self.strategy not in (LEAST_ALLOCATED, MOST_ALLOCATED, REQUESTED_TO_CAPACITY_RATIO):
            raise ValueError(f"scoring strategy {self.strategy} is not supported")
        self.resources = _resource_specs(strategy.get("resources"))
        shape = (strategy.get("requestedToCapacityRatio") or {}).get("shape") or (
            {"utilization": 0, "score": MAX_CUSTOM_PRIORITY_SCORE},
            {"utilization": 100, "score": 0},
        )
        scale = MAX_NODE_SCORE // MAX_CUSTOM_PRIORITY_SCORE
        self._utilization = np.array([int(p["utilization"]) for p in shape], dtype=np.int64)
        self._shape_score = np.array([int(p["score"]) * scale for p in shape], dtype=np.int64)
        self._ignored = frozenset(args.get("ignoredResources") or ())
        self._ignored_groups = frozenset(args.get("ignoredResourceGroups") or ())

    def _ignored_resource(self, name: str) -> bool:
        if not is_scalar_resource(name):
            return False
        return name in self._ignored or name.split("/")[0] in self._ignored_groups

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        rejections = []
        too_many = snapshot.pod_count >= snapshot.allowed_pods
        if too_many.any():
            rejections.append(Rejection("Too many pods", too_many))
        for name, amount in pod.requests.items():
            if self._ignored_resource(name):
                continue
            index = snapshot.resource_index(name)
            if index is None:
                insufficient = np.ones(snapshot.capacity, dtype=np.bool_)
            else:
                free = snapshot.allocatable[index] - snapshot.requested[index]
                insufficient = free < amount
            if insufficient.any():
                rejections.append(Rejection(f"Insufficient {name}", insufficient))
        return FilterResult.from_rejections(snapshot.capacity, rejections)

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        node_score = np.zeros(len(nodes), dtype=np.int64)
        weight_sum = np.zeros(len(nodes), dtype=np.int64)
        ratio = self.strategy == REQUESTED_TO_CAPACITY_RATIO
        for spec in self.resources:
            pair = _allocatable_requested(snapshot, nodes, pod, spec.name, use_requested=False)
            if pair is None:
                continue
            allocatable, requested = pair
            counted = allocatable > 0
            resource_score = self._resource_score(np.maximum(allocatable, 1), requested)
            if ratio:
                counted &= resource_score > 0
            node_score += resource_score * counted * spec.weight
            weight_sum += counted * spec.weight
        if ratio:
            mean = np.floor(node_score / np.maximum(weight_sum, 1) + 0.5).astype(np.int64)
        elif weight_sum.size and weight_sum.min() == weight_sum.max() > 0:
            return node_score // int(weight_sum[0])  # the usual case: a scalar divisor
        else:
            mean = node_score // np.maximum(weight_sum, 1)
        return mean * (weight_sum > 0)

    def _resource_score(self, allocatable: Int64Array, requested: Int64Array) -> Int64Array:
        if self.strategy == LEAST_ALLOCATED:  # over capacity: negative, clamped to 0
            free: Int64Array = (allocatable - requested) * MAX_NODE_SCORE // allocatable
            return np.maximum(free, 0)
        capped = np.minimum(requested, allocatable)
        if self.strategy == MOST_ALLOCATED:
            return capped * MAX_NODE_SCORE // allocatable
        utilization = capped * MAX_UTILIZATION // allocatable  # over capacity: 100
        return self._broken_linear(utilization)

    def _broken_linear(self, p: Int64Array) -> Int64Array:
        """`helper.BuildBrokenLinearFunction` over the configured shape."""
        u, s = self._utilization, self._shape_score
        i = np.searchsorted(u, p, side="left")
        inner = np.clip(i, 1, len(u) - 1)
        low_u, low_s, high_u, high_s = u[inner - 1], s[inner - 1], u[inner], s[inner]
        span = np.maximum(high_u - low_u, 1)
        between = low_s + _go_div((high_s - low_s) * (p - low_u), span)
        return np.where(i == 0, s[0], np.where(i >= len(u), s[-1], between))


class NodeResourcesBalancedAllocation:
    name = BALANCED_ALLOCATION

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.resources = _resource_specs(args.get("resources"))

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Status:
        best_effort = all(pod.requests.get(spec.name, 0) == 0 for spec in self.resources)
        return SKIP if best_effort else SUCCESS

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        fractions, present = [], []
        for spec in self.resources:
            pair = _allocatable_requested(snapshot, nodes, pod, spec.name, use_requested=True)
            if pair is None:
                continue
            allocatable, requested = pair
            counted = allocatable > 0
            fractions.append(np.minimum(requested / np.maximum(allocatable, 1), 1.0) * counted)
            present.append(counted)
        if not fractions:
            return np.full(len(nodes), MAX_NODE_SCORE, dtype=np.int64)
        if len(fractions) == 2:  # Kubernetes' shortcut for two resources: |f0 - f1| / 2
            std = np.abs((fractions[0] - fractions[1]) / 2) * (present[0] & present[1])
        else:
            f, mask = np.array(fractions), np.array(present)
            count = mask.sum(axis=0)
            low = np.where(mask, f, np.inf).min(axis=0)
            two = np.abs((np.where(mask, f, -np.inf).max(axis=0) - low) / 2)
            mean = f.sum(axis=0) / np.maximum(count, 1)
            squares = np.where(mask, (f - mean) ** 2, 0.0).sum(axis=0)
            spread = np.sqrt(squares / np.maximum(count, 1))
            std = np.where(count == 2, two, np.where(count > 2, spread, 0.0))
        score: Scores = ((1 - std) * MAX_NODE_SCORE).astype(np.int64)
        return score
