"""InterPodAffinity: podAffinity and podAntiAffinity, over topology domains.

Filter (Kubernetes 1.32 semantics; a node keeps only its first failing reason):
1. the pod's required affinity: for every term the node must carry the term's
   topology key and its domain must hold a pod matching *all* the pod's required
   affinity terms — unless no such pod exists anywhere and the pod matches its own
   terms (the first pod of a self-affine group), when carrying the keys suffices.
   Rejection "node(s) didn't match pod affinity rules" (UnschedulableAndUnresolvable);
2. the pod's required anti-affinity: no term may have a matching pod in the node's
   domain: "node(s) didn't match pod anti-affinity rules" (Unschedulable);
3. existing pods' required anti-affinity: no pod whose term matches the incoming pod
   may run in the node's domain of that term: "node(s) didn't satisfy existing pods
   anti-affinity rules" (Unschedulable).

Score: for every domain, + weight x matching pods for the pod's preferred affinity
terms, - for its preferred anti-affinity terms; + weight (hardPodAffinityWeight, 1)
per existing pod whose required affinity term matches the pod, ± weight per existing
pod whose preferred (anti-)affinity term matches it; a node scores the sum over its
domains, normalized to 0..100 between the lowest and highest (all 0 when equal).

Counting uses the snapshot's incremental per-node counters, keyed by term, so pods of
one template share them; existing pods' terms are grouped (`affinity_terms`), so the
cost grows with distinct terms, not with pods.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import numpy as np

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
from kybernetes.scheduler.plugins.topology import Values, domain_totals
from kybernetes.scheduler.podaffinity import (
    PREFERRED,
    PREFERRED_ANTI,
    REQUIRED,
    REQUIRED_ANTI,
    AffinityTerm,
    NamespaceLabels,
    TermEntry,
    counter_key,
)
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "InterPodAffinity"
ERR_AFFINITY: Final = "node(s) didn't match pod affinity rules"
ERR_ANTI_AFFINITY: Final = "node(s) didn't match pod anti-affinity rules"
ERR_EXISTING_ANTI_AFFINITY: Final = "node(s) didn't satisfy existing pods anti-affinity rules"
_PRE_FILTER_KEY: Final = "PreFilter" + NAME
_PRE_SCORE_KEY: Final = "PreScore" + NAME


def _matches(pod: PodInfo, term: AffinityTerm, namespace_labels: NamespaceLabels) -> bool:
    return term.matches(pod.namespace, pod.labels, namespace_labels)


def term_counts(snapshot: NodeSnapshot, term: AffinityTerm) -> Values:
    """Per-slot counts of the pods `term` selects."""
    labels = snapshot.namespace_labels
    return snapshot.pod_counts(counter_key(term, labels), lambda p: _matches(p, term, labels))


def _carriers(snapshot: NodeSnapshot, entry: TermEntry) -> Values:
    """Per-slot counts of the pods that carry this (kind, term, weight)."""
    return snapshot.pod_counts(("carriers", entry), lambda p: entry in p.affinity.entries)


@dataclass(frozen=True, slots=True)
class _FilterState:
    affinity_ok: Mask | None  # None: the pod has no required affinity
    anti_affinity_hit: Mask
    existing_anti_hit: Mask


class InterPodAffinity:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        self.hard_pod_affinity_weight = int(args.get("hardPodAffinityWeight", 1))
        if not 0 <= self.hard_pod_affinity_weight <= 100:
            raise ValueError("hardPodAffinityWeight: must be in the range [0, 100]")
        self.ignore_existing_preferred = bool(args.get("ignorePreferredTermsOfExistingPods"))

    # -- Filter --------------------------------------------------------------------------

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> Status:
        required, anti = pod.affinity.required_affinity, pod.affinity.required_anti_affinity
        existing = [
            term
            for kind, term, _ in snapshot.affinity_terms
            if kind == REQUIRED_ANTI and _matches(pod, term, snapshot.namespace_labels)
        ]
        if not required and not anti and not existing:
            return SKIP
        none = np.zeros(snapshot.capacity, dtype=np.bool_)
        existing_hit = none.copy()
        for term in existing:
            entry: TermEntry = (REQUIRED_ANTI, term, 1)
            totals, _ = domain_totals(snapshot, term.topology_key, _carriers(snapshot, entry))
            existing_hit |= totals > 0
        anti_hit = none.copy()
        for term in anti:
            totals, _ = domain_totals(snapshot, term.topology_key, term_counts(snapshot, term))
            anti_hit |= totals > 0
        affinity_ok = self._affinity_ok(pod, snapshot) if required else None
        state.write(_PRE_FILTER_KEY, _FilterState(affinity_ok, anti_hit, existing_hit))
        return SUCCESS

    @staticmethod
    def _affinity_ok(pod: PodInfo, snapshot: NodeSnapshot) -> Mask:
        terms = pod.affinity.required_affinity
        labels = snapshot.namespace_labels
        counts = snapshot.pod_counts(
            ("all-of", tuple(counter_key(t, labels) for t in terms)),
            lambda p: all(_matches(p, t, labels) for t in terms),
        )
        ok = snapshot.present.copy()
        has_keys = snapshot.present.copy()
        any_pair = False
        for term in terms:
            totals, has = domain_totals(snapshot, term.topology_key, counts)
            ok &= has & (totals > 0)
            has_keys &= has
            any_pair = any_pair or bool((has & (counts > 0)).any())
        if not any_pair and all(_matches(pod, t, labels) for t in terms):
            return has_keys
        return ok

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        pre = state.read(_PRE_FILTER_KEY)
        assert isinstance(pre, _FilterState)
        rejected = np.zeros(snapshot.capacity, dtype=np.bool_)
        rejections = []
        if pre.affinity_ok is not None:
            rejected = ~pre.affinity_ok
            rejections.append(
                Rejection(ERR_AFFINITY, rejected, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
            )
        anti = pre.anti_affinity_hit & ~rejected
        rejections.append(Rejection(ERR_ANTI_AFFINITY, anti))
        rejected = rejected | anti
        rejections.append(Rejection(ERR_EXISTING_ANTI_AFFINITY, pre.existing_anti_hit & ~rejected))
        return FilterResult(~(rejected | pre.existing_anti_hit), tuple(rejections))

    # -- Score ---------------------------------------------------------------------------

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Status:
        labels = snapshot.namespace_labels
        total = np.zeros(snapshot.capacity, dtype=np.int64)
        touched = False
        for weighted, sign in (
            *((w, 1) for w in pod.affinity.preferred_affinity),
            *((w, -1) for w in pod.affinity.preferred_anti_affinity),
        ):
            totals, _ = domain_totals(
                snapshot, weighted.term.topology_key, term_counts(snapshot, weighted.term)
            )
            total += sign * weighted.weight * totals
            touched = True
        for entry in snapshot.affinity_terms:
            kind, term, weight = entry
            if kind == REQUIRED:
                weight, sign = self.hard_pod_affinity_weight, 1
            elif kind in (PREFERRED, PREFERRED_ANTI) and not self.ignore_existing_preferred:
                sign = 1 if kind == PREFERRED else -1
            else:
                continue
            if weight and _matches(pod, term, labels):
                totals, _ = domain_totals(snapshot, term.topology_key, _carriers(snapshot, entry))
                total += sign * weight * totals
                touched = True
        if not touched:
            return SKIP
        state.write(_PRE_SCORE_KEY, total)
        return SUCCESS

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        total = state.read(_PRE_SCORE_KEY)
        assert isinstance(total, np.ndarray)
        scores: Scores = total[nodes].copy()
        return scores

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: Scores) -> Scores:
        if scores.size == 0:
            return scores
        low, high = int(scores.min()), int(scores.max())
        if high == low:
            return np.zeros_like(scores)
        normalized: Scores = (MAX_NODE_SCORE * (scores - low) / (high - low)).astype(np.int64)
        return normalized
