"""NodeName: a pod with `spec.nodeName` fits only the node of that name.

Rejection: "node(s) didn't match the requested node name" (UnschedulableAndUnresolvable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import Code, CycleState, FilterResult, Rejection
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "NodeName"
ERR_REASON: Final = "node(s) didn't match the requested node name"


class NodeName:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        if not pod.node_name:
            return FilterResult(np.ones(snapshot.capacity, dtype=np.bool_))
        rejected = np.ones(snapshot.capacity, dtype=np.bool_)
        slot = snapshot.slots.get(pod.node_name)
        if slot is not None:
            rejected[slot] = False
        rejection = Rejection(ERR_REASON, rejected, Code.UNSCHEDULABLE_AND_UNRESOLVABLE)
        return FilterResult(~rejected, (rejection,))
