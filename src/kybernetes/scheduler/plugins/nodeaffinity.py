"""NodeAffinity: `spec.nodeSelector` and `affinity.nodeAffinity`, evaluated per label column.

Filter: a node passes when it has every nodeSelector label and, if
requiredDuringSchedulingIgnoredDuringExecution is set, matches at least one of its
nodeSelectorTerms (terms are ORed; the expressions and fields of one term are ANDed; an
empty term or an invalid one matches nothing; no terms matches nothing). Operators: In,
NotIn (a missing label matches), Exists, DoesNotExist, Gt, Lt (integers, as Go's
ParseInt reads them). matchFields supports `metadata.name` with In/NotIn and exactly
one value. Rejection: "node(s) didn't match Pod's node affinity/selector"
(UnschedulableAndUnresolvable). The plugin's `addedAffinity` arg (a NodeAffinity
applied to every pod of the profile) is checked first, with the rejection "node(s)
didn't match scheduler-enforced node affinity"; its preferred terms add to the score.

Score: the sum of the weights of the matching preferred terms (weight 0 and empty
terms are skipped), normalized so the best node gets 100; weight 2 by default.

Both are memoized in the snapshot per `PodInfo.node_affinity_key` until a node changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
from kybernetes.scheduler.plugins.normalize import default_normalize_score
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "NodeAffinity"
ERR_REASON_POD: Final = "node(s) didn't match Pod's node affinity/selector"
ERR_REASON_ENFORCED: Final = "node(s) didn't match scheduler-enforced node affinity"
_UNRESOLVABLE: Final = Code.UNSCHEDULABLE_AND_UNRESOLVABLE
_INT64: Final = (-(2**63), 2**63)


class NodeAffinity:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        added = args.get("addedAffinity") or {}
        required = added.get("requiredDuringSchedulingIgnoredDuringExecution")
        self._added_required: tuple[Mapping[str, Any], ...] | None = (
            None if required is None else tuple(required.get("nodeSelectorTerms") or ())
        )
        self._added_preferred: tuple[Mapping[str, Any], ...] = tuple(
            added.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
        )
        self._token = object()  # tells this instance's memo entries from other profiles'

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> Status:
        if pod.node_selector or pod.required_node_affinity is not None:
            return SUCCESS
        return SKIP if self._added_required is None else SUCCESS

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        key = (NAME, "filter", self._token, pod.node_affinity_key)
        return snapshot.memo(key, lambda: self._filter(pod, snapshot))

    def _filter(self, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        feasible = np.ones(snapshot.capacity, dtype=np.bool_)
        rejections = []
        if self._added_required is not None:
            feasible = match_terms(snapshot, self._added_required)
            rejections.append(Rejection(ERR_REASON_ENFORCED, ~feasible, _UNRESOLVABLE))
        matched = pod_affinity_nodes(snapshot, pod)
        rejections.append(Rejection(ERR_REASON_POD, feasible & ~matched, _UNRESOLVABLE))
        return FilterResult(feasible & matched, tuple(rejections))

    def pre_score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Status:
        return SUCCESS if pod.preferred_node_affinity or self._added_preferred else SKIP

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        key = (NAME, "score", self._token, pod.node_affinity_key)
        terms = (*self._added_preferred, *pod.preferred_node_affinity)
        return snapshot.memo(key, lambda: _preferred(terms, snapshot))[nodes]

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: Scores) -> Scores:
        return default_normalize_score(MAX_NODE_SCORE, scores, reverse=False)


def pod_affinity_nodes(snapshot: NodeSnapshot, pod: PodInfo) -> Mask:
    """The slots matching the pod's own nodeSelector and required node affinity."""

    def compute() -> Mask:
        matched = np.ones(snapshot.capacity, dtype=np.bool_)
        for key, value in pod.node_selector.items():
            matched &= _match_in(snapshot, key, (value,))
        if pod.required_node_affinity is not None:
            matched &= match_terms(snapshot, pod.required_node_affinity)
        return matched

    return snapshot.memo((NAME, "pod", pod.node_affinity_key), compute)


def _preferred(terms: Sequence[Mapping[str, Any]], snapshot: NodeSnapshot) -> Scores:
    total = np.zeros(snapshot.capacity, dtype=np.int64)
    for term in terms:
        weight = int(term.get("weight") or 0)
        preference = term.get("preference") or {}
        if weight and not _empty(preference):
            total += weight * match_term(snapshot, preference)
    return total


def _empty(term: Mapping[str, Any]) -> bool:
    return not term.get("matchExpressions") and not term.get("matchFields")


def match_terms(snapshot: NodeSnapshot, terms: Sequence[Mapping[str, Any]]) -> Mask:
    """The slots matching any of the nodeSelectorTerms."""
    matched = np.zeros(snapshot.capacity, dtype=np.bool_)
    for term in terms:
        if not _empty(term):
            matched |= match_term(snapshot, term)
    return matched


def match_term(snapshot: NodeSnapshot, term: Mapping[str, Any]) -> Mask:
    """The slots matching every expression and field of one nodeSelectorTerm."""
    matched = np.ones(snapshot.capacity, dtype=np.bool_)
    for expression in term.get("matchExpressions") or ():
        matched &= _match_expression(snapshot, expression)
    for expression in term.get("matchFields") or ():
        matched &= _match_field(snapshot, expression)
    return matched


def _match_expression(snapshot: NodeSnapshot, expression: Mapping[str, Any]) -> Mask:
    key, operator = expression.get("key") or "", expression.get("operator")
    values = tuple(expression.get("values") or ())
    if operator == "In" and values:
        return _match_in(snapshot, key, values)
    if operator == "NotIn" and values:
        return ~_match_in(snapshot, key, values)
    if operator in ("Exists", "DoesNotExist") and not values:
        column, _ = snapshot.label_column(key)
        present = np.zeros(snapshot.capacity, np.bool_) if column is None else column >= 0
        return present if operator == "Exists" else ~present
    if operator in ("Gt", "Lt") and len(values) == 1 and (bound := _parse_int64(values[0])):
        return _match_order(snapshot, key, operator, bound[0])
    return np.zeros(snapshot.capacity, dtype=np.bool_)


def _match_in(snapshot: NodeSnapshot, key: str, values: Sequence[str]) -> Mask:
    column, ids = snapshot.label_column(key)
    wanted = [ids[value] for value in values if value in ids]
    if column is None or not wanted:
        return np.zeros(snapshot.capacity, dtype=np.bool_)
    matched: Mask = column == wanted[0] if len(wanted) == 1 else np.isin(column, wanted)
    return matched


def _match_order(snapshot: NodeSnapshot, key: str, operator: str, bound: int) -> Mask:
    column, _ = snapshot.label_column(key)
    if column is None:
        return np.zeros(snapshot.capacity, dtype=np.bool_)
    parsed = [_parse_int64(value) for value in snapshot.label_values[key]]
    good = [p is not None and (p[0] > bound if operator == "Gt" else p[0] < bound) for p in parsed]
    table = np.array([*good, False], dtype=np.bool_)
    matched: Mask = table[column]
    return matched


def _parse_int64(text: str) -> tuple[int] | None:
    """Go's `strconv.ParseInt(text, 10, 64)` as a 1-tuple (so 0 is truthy), or None."""
    body = text[1:] if text[:1] in "+-" else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    number = int(text)
    return (number,) if _INT64[0] <= number < _INT64[1] else None


def _match_field(snapshot: NodeSnapshot, expression: Mapping[str, Any]) -> Mask:
    operator, values = expression.get("operator"), tuple(expression.get("values") or ())
    matched = np.zeros(snapshot.capacity, dtype=np.bool_)
    if expression.get("key") != "metadata.name" or len(values) != 1:
        return matched
    if operator not in ("In", "NotIn"):
        return matched
    slot = snapshot.slots.get(values[0])
    if slot is not None:
        matched[slot] = True
    return matched if operator == "In" else ~matched
