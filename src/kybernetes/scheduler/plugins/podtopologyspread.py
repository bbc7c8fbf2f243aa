"""PodTopologySpread: `topologySpreadConstraints`, Kubernetes 1.32 semantics.

A constraint counts the pods of the incoming pod's namespace that its labelSelector
(plus `matchLabelKeys` from the pod's own labels) selects, skipping terminating pods,
per topology domain (the nodes sharing a value of `topologyKey`). Only *eligible*
nodes count: those carrying every constraint's key and passing the node inclusion
policies (`nodeAffinityPolicy` Honor (default): the pod's nodeSelector and required
node affinity; `nodeTaintsPolicy` Honor: its NoSchedule/NoExecute taints tolerated,
Ignore by default).

Filter (DoNotSchedule constraints): a node without the key is rejected with "node(s)
didn't match pod topology spread constraints (missing required label)"
(UnschedulableAndUnresolvable); otherwise, with `skew = count(node's domain) + (1 if
the pod matches the selector) - min count over the eligible domains` (the minimum is
0 while there are fewer domains than `minDomains`), skew > maxSkew is rejected with
"node(s) didn't match pod topology spread constraints" (Unschedulable).

Score (ScheduleAnyway constraints; for a pod without constraints, the plugin's default
constraints — `defaultingType: System`: hostname maxSkew 3, zone maxSkew 5 — over the
selector of the Services, ReplicaSet, ReplicationController or StatefulSet that own
the pod): each constraint adds `count x log(domains + 2) + maxSkew - 1`, with the
hostname key counted per node; feasible nodes missing a key are ignored when the pod
gave its own constraints. Scores are inverted so the emptiest domain gets 100.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

from kybernetes.api.selectors import (
    EVERYTHING,
    Operator,
    Requirement,
    Selector,
    SelectorError,
    label_selector_as_selector,
)
from kybernetes.scheduler.framework import (
    MAX_NODE_SCORE,
    SKIP,
    SUCCESS,
    Code,
    CycleState,
    FilterResult,
    Indices,
    Mask,
    Rejection,
    Scores,
    Status,
)
from kybernetes.scheduler.plugins.nodeaffinity import pod_affinity_nodes
from kybernetes.scheduler.plugins.tainttoleration import tolerated_nodes
from kybernetes.scheduler.plugins.topology import Values, domain_totals, has_label
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "PodTopologySpread"
ERR_CONSTRAINTS: Final = "node(s) didn't match pod topology spread constraints"
ERR_MISSING_LABEL: Final = ERR_CONSTRAINTS + " (missing required label)"
HOSTNAME: Final = "kubernetes.io/hostname"
ZONE: Final = "topology.kubernetes.io/zone"
DO_NOT_SCHEDULE: Final = "DoNotSchedule"
SCHEDULE_ANYWAY: Final = "ScheduleAnyway"
SYSTEM_DEFAULT_CONSTRAINTS: Final = (
    {"maxSkew": 3, "topologyKey": HOSTNAME, "whenUnsatisfiable": SCHEDULE_ANYWAY},
    {"maxSkew": 5, "topologyKey": ZONE, "whenUnsatisfiable": SCHEDULE_ANYWAY},
)
_PRE_FILTER_KEY: Final = "PreFilter" + NAME
_PRE_SCORE_KEY: Final = "PreScore" + NAME


@dataclass(frozen=True, slots=True)
class Constraint:
    max_skew: int
    topology_key: str
    selector: Selector
    min_domains: int
    honor_node_affinity: bool
    honor_taints: bool


def parse_constraint(raw: Mapping[str, Any], pod: PodInfo, selector: Selector | None) -> Constraint:
    """One constraint; `selector` replaces the labelSelector (default constraints)."""
    if selector is None:
        try:
            selector = label_selector_as_selector(raw.get("labelSelector"))
        except (SelectorError, AttributeError, TypeError):
            selector = label_selector_as_selector(None)
        extra = [
            Requirement(key, Operator.IN, (pod.labels[key],))
            for key in raw.get("matchLabelKeys") or ()
            if key in pod.labels
        ]
        selector = selector.add(*extra)
    return Constraint(
        max_skew=int(raw.get("maxSkew") or 1),
        topology_key=raw.get("topologyKey") or "",
        selector=selector,
        min_domains=int(raw.get("minDomains") or 1),
        honor_node_affinity=(raw.get("nodeAffinityPolicy") or "Honor") == "Honor",
        honor_taints=(raw.get("nodeTaintsPolicy") or "Ignore") == "Honor",
    )


def default_selector(pod: PodInfo, snapshot: NodeSnapshot) -> Selector:
    """Kubernetes' `helper.DefaultSelector`: the owning Services' selectors merged, and
    the controlling ReplicaSet's, ReplicationController's or StatefulSet's added."""
    owners = snapshot.workload_selectors.get(pod.namespace, {})
    requirements: list[Requirement] = []
    for (kind, _), selector in owners.items():
        if kind == "Service" and selector.matches(pod.labels):
            requirements.extend(selector.requirements)
    if pod.controller is not None and pod.controller[0] != "Service":
        owner = owners.get(pod.controller)
        if owner is not None:
            requirements.extend(owner.requirements)
    return EVERYTHING.add(*dict.fromkeys(requirements))


@dataclass(frozen=True, slots=True)
class _FilterState:
    feasible: Mask
    missing_label: Mask


@dataclass(frozen=True, slots=True)
class _ScoreState:
    scores: Scores  # aligned with the nodes given to pre_score
    ignored: Mask  # likewise


class PodTopologySpread:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        defaulting = args.get("defaultingType") or "System"
        if defaulting not in ("System", "List"):
            raise ValueError(f"defaultingType: unsupported value {defaulting!r}")
        configured = tuple(args.get("defaultConstraints") or ())
        if defaulting == "System" and configured:
            raise ValueError("defaultConstraints: must be empty for System defaulting")
        self.system_defaulted = defaulting == "System"
        self.default_constraints = (
            SYSTEM_DEFAULT_CONSTRAINTS if self.system_defaulted else configured
        )

    def _constraints(
        self, pod: PodInfo, snapshot: NodeSnapshot, when: str
    ) -> tuple[list[Constraint], bool]:
        """The pod's constraints of kind `when` and whether they are its own."""
        if pod.spread_constraints:
            own = [
                parse_constraint(raw, pod, None)
                for raw in pod.spread_constraints
                if (raw.get("whenUnsatisfiable") or DO_NOT_SCHEDULE) == when
            ]
            return own, True
        defaults = [c for c in self.default_constraints if c.get("whenUnsatisfiable") == when]
        if not defaults:
            return [], False
        selector = default_selector(pod, snapshot)
        if selector.empty:
            return [], False
        return [parse_constraint(raw, pod, selector) for raw in defaults], False

    @staticmethod
    def _counts(snapshot: NodeSnapshot, pod: PodInfo, constraint: Constraint) -> Values:
        namespace, selector = pod.namespace, constraint.selector
        key: Hashable = ("spread", namespace, selector)
        return snapshot.pod_counts(
            key,
            lambda p: p.namespace == namespace and not p.terminating and selector.matches(p.labels),
        )

    @staticmethod
    def _eligible(snapshot: NodeSnapshot, pod: PodInfo, constraint: Constraint) -> Mask:
        eligible = snapshot.present
        if constraint.honor_node_affinity:
            eligible = eligible & pod_affinity_nodes(snapshot, pod)
        if constraint.honor_taints:
            eligible = eligible & tolerated_nodes(snapshot, pod.tolerations)
        return eligible

    # -- Filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> Status:
        constraints, _ = self._constraints(pod, snapshot, DO_NOT_SCHEDULE)
        if not constraints:
            return SKIP
        all_keys = _all_keys(snapshot, constraints)
        feasible = snapshot.present.copy()
        missing = np.zeros(snapshot.capacity, dtype=np.bool_)
        for c in constraints:
            eligible = all_keys & self._eligible(snapshot, pod, c)
            counts = self._counts(snapshot, pod, c)
            totals, has = domain_totals(snapshot, c.topology_key, counts, eligible)
            missing |= snapshot.present & ~has
            column, _ = snapshot.label_column(c.topology_key)
            domains = np.unique(column[eligible]) if column is not None else np.zeros(0)
            minimum = 0
            if domains.size >= c.min_domains and domains.size:
                minimum = int(totals[eligible].min())
            self_match = 1 if c.selector.matches(pod.labels) else 0
            feasible &= has & (totals + self_match - minimum <= c.max_skew)
        state.write(_PRE_FILTER_KEY, _FilterState(feasible & ~missing, missing))
        return SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        pre = state.read(_PRE_FILTER_KEY)
        assert isinstance(pre, _FilterState)
        rejections = (
            Rejection(ERR_MISSING_LABEL, pre.missing_label, Code.UNSCHEDULABLE_AND_UNRESOLVABLE),
            Rejection(ERR_CONSTRAINTS, ~pre.feasible & ~pre.missing_label),
        )
        return FilterResult(pre.feasible, rejections)

    # -- Score ---------------------------------------------------------------------------

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Status:
        constraints, own = self._constraints(pod, snapshot, SCHEDULE_ANYWAY)
        if not constraints:
            return SKIP
        all_keys = _all_keys(snapshot, constraints)
        require_all = own or not self.system_defaulted
        ignored = ~all_keys[nodes] if require_all else np.zeros(nodes.size, dtype=np.bool_)
        scored_nodes = nodes[~ignored]
        total = np.zeros(nodes.size, dtype=np.float64)
        for c in constraints:
            counts = self._counts(snapshot, pod, c)
            has = has_label(snapshot, c.topology_key)
            if c.topology_key == HOSTNAME:
                size, per_node = scored_nodes.size, counts
            else:
                eligible = self._eligible(snapshot, pod, c)
                if require_all:
                    eligible = eligible & all_keys
                per_node, _ = domain_totals(snapshot, c.topology_key, counts, eligible)
                size = _distinct_values(snapshot, c.topology_key, scored_nodes)
            weight = math.log(size + 2)
            contribution = per_node[nodes] * weight + (c.max_skew - 1)
            total += np.where(has[nodes], contribution, 0.0)
        state.write(_PRE_SCORE_KEY, _ScoreState(np.round(total).astype(np.int64), ignored))
        return SUCCESS

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        pre = state.read(_PRE_SCORE_KEY)
        assert isinstance(pre, _ScoreState)
        return pre.scores.copy()

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: Scores) -> Scores:
        pre = state.read(_PRE_SCORE_KEY)
        assert isinstance(pre, _ScoreState)
        ignored = pre.ignored
        counted = scores[~ignored]
        if counted.size == 0:
            return np.zeros_like(scores)
        low, high = int(counted.min()), int(counted.max())
        if high == 0:
            result = np.full_like(scores, MAX_NODE_SCORE)
        else:
            result = MAX_NODE_SCORE * (high + low - scores) // high
        result[ignored] = 0
        normalized: Scores = result.astype(np.int64)
        return normalized


def _all_keys(snapshot: NodeSnapshot, constraints: Sequence[Constraint]) -> Mask:
    mask = snapshot.present.copy()
    for c in constraints:
        mask &= has_label(snapshot, c.topology_key)
    return mask


def _distinct_values(snapshot: NodeSnapshot, key: str, nodes: Indices) -> int:
    """Distinct values of `key` over `nodes`, a missing label counting as the value ""."""
    column, _ = snapshot.label_column(key)
    if column is None:
        return 1 if nodes.size else 0
    return int(np.unique(column[nodes]).size)
