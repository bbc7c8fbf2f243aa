"""One scheduling decision, pure: `schedule_one(snapshot, pod, profile, rng)`.

PreFilter -> Filter -> (PostFilter when nothing fits) -> PreScore -> Score ->
NormalizeScore -> select host, as Kubernetes' `schedulePod`:

- a PreFilter rejection rejects every node with its message (PostFilter still runs,
  as in Kubernetes); Skip disables that
  plugin's Filter; Error aborts with Code.ERROR;
- Filter plugins run in profile order over all nodes at once; a node keeps only the
  reasons of the first plugin that rejects it (Kubernetes stops at the first failure);
- as many feasible nodes are kept as `percentageOfNodesToScore` asks
  (`num_feasible_nodes_to_find`), walking the nodes in slot order from `start_index`;
  `ScheduleResult.evaluated_nodes` tells the caller how far to advance it;
- a single feasible node is chosen without scoring; otherwise each score is normalized
  (when the plugin has NormalizeScore), checked to lie in [0, 100], multiplied by the
  plugin's weight and summed; the highest total wins, ties broken by `rng`.

The snapshot is not modified; Reserve and later points belong to the caller.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Final

import numpy as np

from kybernetes.scheduler.framework import (
    MAX_NODE_SCORE,
    MIN_NODE_SCORE,
    Code,
    CycleState,
    Mask,
    Status,
)
from kybernetes.scheduler.messages import NO_NODES_AVAILABLE, fit_error_message
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.profile import Profile
from kybernetes.scheduler.snapshot import NodeSnapshot

MIN_FEASIBLE_NODES_TO_FIND: Final = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND: Final = 5


@dataclass(frozen=True, slots=True)
class ScheduleResult:
    """The chosen node (None if none), the cycle's status and its user-facing message."""

    node: str | None
    status: Status
    message: str = ""
    feasible_nodes: int = 0
    evaluated_nodes: int = 0
    nominated_node: str | None = None
    state: CycleState | None = None  # the cycle's state, for Reserve and later points


def num_feasible_nodes_to_find(percentage: int | None, num_all_nodes: int) -> int:
    """Kubernetes' `numFeasibleNodesToFind`: 0 (or None) means adaptive (50% - n/125)."""
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if not percentage:
        percentage = max(50 - num_all_nodes // 125, MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND)
    return max(num_all_nodes * percentage // 100, MIN_FEASIBLE_NODES_TO_FIND)


def run_pre_filter(
    profile: Profile, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot
) -> Status:
    """Runs the PreFilter plugins into `state` (Skip marks the plugin's Filter as not
    needed); the first rejection is returned as is, an error as Code.ERROR."""
    for pre_filter in profile.pre_filter:
        status = pre_filter.pre_filter(state, pod, snapshot)
        if status.code is Code.SKIP:
            state.skip_filter_plugins.add(pre_filter.name)
        elif status.is_rejected:
            return status
        elif not status.is_success:
            reason = f"running PreFilter plugin {pre_filter.name!r}: {status.message}"
            return Status(Code.ERROR, (reason,), pre_filter.name)
    return Status()


def _failed(status: Status) -> ScheduleResult:
    return ScheduleResult(None, status, status.message)


def schedule_one(
    snapshot: NodeSnapshot,
    pod: PodInfo,
    profile: Profile,
    rng: random.Random,
    *,
    start_index: int = 0,
) -> ScheduleResult:
    """Choose a node for `pod` (see the module docstring); never raises for bad luck."""
    num_nodes = snapshot.num_nodes
    if num_nodes == 0:
        return _failed(Status(Code.UNSCHEDULABLE_AND_UNRESOLVABLE, (NO_NODES_AVAILABLE,)))
    state = CycleState()
    status = run_pre_filter(profile, state, pod, snapshot)
    if status.is_rejected:
        resolvable = status.code is Code.UNSCHEDULABLE
        candidates = snapshot.present if resolvable else np.zeros_like(snapshot.present)
        return _post_filter(snapshot, pod, profile, state, Counter(), candidates, status.message)
    if not status.is_success:
        return _failed(status)

    remaining = snapshot.present.copy()
    unresolvable = np.zeros_like(remaining)
    reasons: Counter[str] = Counter()
    for plugin in profile.filter:
        if plugin.name in state.skip_filter_plugins:
            continue
        result = plugin.filter(state, pod, snapshot)
        for rejection in result.rejections:
            hit = rejection.nodes & remaining
            if count := int(np.count_nonzero(hit)):
                reasons[rejection.reason] += count
                if rejection.code is not Code.UNSCHEDULABLE:
                    unresolvable |= hit
        remaining &= result.feasible
        if not remaining.any():
            break

    order = snapshot.node_order()
    if start := start_index % num_nodes:
        order = np.concatenate([order[start:], order[:start]])
    feasible_in_order = np.flatnonzero(remaining[order])
    wanted = num_feasible_nodes_to_find(profile.percentage_of_nodes_to_score, num_nodes)
    if feasible_in_order.size > wanted:
        evaluated = int(feasible_in_order[wanted - 1]) + 1
        feasible_in_order = feasible_in_order[:wanted]
    else:
        evaluated = num_nodes
    nodes = order[feasible_in_order]

    if nodes.size == 0:
        candidates = snapshot.present & ~unresolvable
        return _post_filter(snapshot, pod, profile, state, reasons, candidates)
    if nodes.size == 1:
        return _chosen(snapshot, state, int(nodes[0]), 1, evaluated)

    for pre_score in profile.pre_score:
        status = pre_score.pre_score(state, pod, snapshot, nodes)
        if status.code is Code.SKIP:
            state.skip_score_plugins.add(pre_score.name)
        elif not status.is_success:
            return _failed(Status(Code.ERROR, (status.message,), pre_score.name))
    total = np.zeros(nodes.size, dtype=np.int64)
    for scorer in profile.score:
        if scorer.plugin.name in state.skip_score_plugins:
            continue
        scores = scorer.plugin.score(state, pod, snapshot, nodes)
        if scorer.normalizer is not None:
            scores = scorer.normalizer.normalize_score(state, pod, scores)
        if scores.size and (scores.min() < MIN_NODE_SCORE or scores.max() > MAX_NODE_SCORE):
            reason = f"plugin {scorer.plugin.name!r} returns an invalid score"
            return _failed(Status(Code.ERROR, (reason,), scorer.plugin.name))
        total += scores * scorer.weight
    best = np.flatnonzero(total == total.max())
    pick = int(best[rng.randrange(best.size)]) if best.size > 1 else int(best[0])
    return _chosen(snapshot, state, int(nodes[pick]), int(nodes.size), evaluated)


def _chosen(
    snapshot: NodeSnapshot, state: CycleState, slot: int, feasible: int, evaluated: int
) -> ScheduleResult:
    return ScheduleResult(snapshot.names[slot], Status(), "", feasible, evaluated, None, state)


def _post_filter(
    snapshot: NodeSnapshot,
    pod: PodInfo,
    profile: Profile,
    state: CycleState,
    reasons: Counter[str],
    candidates: Mask,
    pre_filter_message: str = "",
) -> ScheduleResult:
    """Run PostFilter (e.g. preemption) and build the FitError message."""
    nominated: str | None = None
    post_messages: list[str] = []
    for plugin in profile.post_filter:
        node, status = plugin.post_filter(state, pod, snapshot, candidates)
        if status.message:
            post_messages.append(status.message)
        if status.is_success:
            nominated = node
            break
    message = fit_error_message(
        snapshot.num_nodes,
        reasons,
        pre_filter_message=pre_filter_message,
        post_filter_message=" ".join(post_messages),
    )
    status = Status(Code.UNSCHEDULABLE, (message,))
    return ScheduleResult(None, status, message, 0, snapshot.num_nodes, nominated, state)
