"""TaintToleration: NoSchedule/NoExecute taints a pod does not tolerate reject the node;
untolerated PreferNoSchedule taints lower its score.

Filter: the node's first untolerated NoSchedule or NoExecute taint (in node order)
gives the rejection "node(s) had untolerated taint {key: value}"
(UnschedulableAndUnresolvable). Score: the number of intolerable PreferNoSchedule
taints, counting only tolerations with an empty or PreferNoSchedule effect; normalized
in reverse (fewest taints = 100), weight 3 by default. Work is done once per distinct
taint set (`snapshot.signatures`), broadcast to nodes, and memoized per tolerations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import (
    MAX_NODE_SCORE,
    Code,
    CycleState,
    FilterResult,
    Indices,
    Mask,
    Rejection,
    Scores,
)
from kybernetes.scheduler.plugins.normalize import default_normalize_score
from kybernetes.scheduler.podinfo import PodInfo, Toleration, tolerated
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "TaintToleration"
_DO_NOT_SCHEDULE: Final = ("NoSchedule", "NoExecute")


class TaintToleration:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        key = (NAME, "filter", pod.tolerations)  # shared with tolerated_nodes
        return snapshot.memo(key, lambda: _filter(pod.tolerations, snapshot))

    def score(
        self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot, nodes: Indices
    ) -> Scores:
        key = (NAME, "score", pod.tolerations)
        return snapshot.memo(key, lambda: _intolerable(pod.tolerations, snapshot))[nodes]

    def normalize_score(self, state: CycleState, pod: PodInfo, scores: Scores) -> Scores:
        return default_normalize_score(MAX_NODE_SCORE, scores, reverse=True)


def tolerated_nodes(snapshot: NodeSnapshot, tolerations: tuple[Toleration, ...]) -> Mask:
    """The slots whose NoSchedule and NoExecute taints the tolerations all tolerate."""
    key = (NAME, "filter", tolerations)
    return snapshot.memo(key, lambda: _filter(tolerations, snapshot)).feasible


def _filter(tolerations: tuple[Toleration, ...], snapshot: NodeSnapshot) -> FilterResult:
    first: list[tuple[str, str] | None] = []
    for taints in snapshot.signatures:
        untolerated = (
            (key, value)
            for key, value, effect in taints
            if effect in _DO_NOT_SCHEDULE and not tolerated(tolerations, key, value, effect)
        )
        first.append(next(untolerated, None))
    distinct = sorted({taint for taint in first if taint is not None})
    if not distinct:
        return FilterResult(np.ones(snapshot.capacity, dtype=np.bool_))
    code_of = np.array([0 if t is None else distinct.index(t) + 1 for t in first], np.int32)
    per_node = code_of[snapshot.taint_signature]
    rejections = [
        Rejection(
            f"node(s) had untolerated taint {{{key}: {value}}}",
            per_node == i,
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
        )
        for i, (key, value) in enumerate(distinct, start=1)
    ]
    return FilterResult(per_node == 0, tuple(rejections))


def _intolerable(tolerations: tuple[Toleration, ...], snapshot: NodeSnapshot) -> Scores:
    soft = [t for t in tolerations if t.effect in ("", "PreferNoSchedule")]
    counts = np.array(
        [
            sum(
                1
                for key, value, effect in taints
                if effect == "PreferNoSchedule" and not tolerated(soft, key, value, effect)
            )
            for taints in snapshot.signatures
        ],
        dtype=np.int64,
    )
    return counts[snapshot.taint_signature]
