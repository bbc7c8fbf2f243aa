"""NodePorts: a pod's hostPorts must be free on the node.

A wanted (ip, protocol, port) conflicts with a used one of the same protocol and port
when either ip is 0.0.0.0 or both are equal (`HostPortInfo.CheckConflict`). Only the
nodes already using one of the wanted (protocol, port) pairs are inspected. Rejection:
"node(s) didn't have free ports for the requested pod ports" (Unschedulable).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np

from kybernetes.scheduler.framework import (
    SKIP,
    SUCCESS,
    CycleState,
    FilterResult,
    Rejection,
    Status,
)
from kybernetes.scheduler.podinfo import PodInfo
from kybernetes.scheduler.snapshot import NodeSnapshot

NAME: Final = "NodePorts"
ERR_REASON: Final = "node(s) didn't have free ports for the requested pod ports"
_ANY_IP: Final = "0.0.0.0"


class NodePorts:
    name = NAME

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def pre_filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> Status:
        return SUCCESS if pod.host_ports else SKIP

    def filter(self, state: CycleState, pod: PodInfo, snapshot: NodeSnapshot) -> FilterResult:
        rejected = np.zeros(snapshot.capacity, dtype=np.bool_)
        for wanted in pod.host_ports:
            for slot, ips in snapshot.used_ports.get((wanted.protocol, wanted.port), {}).items():
                if wanted.ip == _ANY_IP or _ANY_IP in ips or wanted.ip in ips:
                    rejected[slot] = True
        return FilterResult(~rejected, (Rejection(ERR_REASON, rejected),))
