"""NodeUnschedulable: cordoned nodes (`spec.unschedulable`) reject pods that do not
tolerate the `node.kubernetes.io/unschedulable:NoSchedule` taint.

Rejection: "node(s) were unschedulable" (UnschedulableAndUnresolvable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import Code, CycleState, FilterResult, Rejection
from kybernetes.scheduler.podinfo import PodInfo, tolerated
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "NodeUnschedulable"
ERR_REASON: Final = "node(s) were unschedulable"
TAINT_NODE_UNSCHEDULABLE: Final = "node.kubernetes.io/unschedulable"


class NodeUnschedulable:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        if tolerated(pod.tolerations, TAINT_NODE_UNSCHEDULABLE, "", "NoSchedule"):
            return FilterResult(np.ones(snapshot.capacity, dtype=np.bool_))
        rejected = snapshot.unschedulable.copy()
        rejection = Rejection(ERR_REASON, rejected, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return FilterResult(~rejected, (rejection,))
