"""Queueing plugins: SchedulingGates (PreEnqueue) and PrioritySort (QueueSort).

SchedulingGates keeps a pod with `spec.schedulingGates` out of the active queue with
UnschedulableAndUnresolvable "waiting for scheduling gates: [a b]". PrioritySort
orders by `spec.priority` (higher first), then by queue timestamp (earlier first).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from kybernetes.scheduler.framework import SUCCESS, Code, QueuedPodInfo, Status
from kybernetes.scheduler.podinfo import PodInfo

SCHEDULING_GATES: Final = "SchedulingGates"
PRIORITY_SORT: Final = "PrioritySort"


class SchedulingGates:
    name = SCHEDULING_GATES

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def pre_enqueue(self, pod: PodInfo) -> Status:
        if not pod.scheduling_gates:
            return SUCCESS
        gates = " ".join(pod.scheduling_gates)
        return Status(
            Code.UNSCHEDULABLE_AND_UNRESOLVABLE,
            (f"waiting for scheduling gates: [{gates}]",),
            SCHEDULING_GATES,
        )


class PrioritySort:
    name = PRIORITY_SORT

    def __init__(self, args: Mapping[str, Any]) -> None:
        del args

    def less(self, a: QueuedPodInfo, b: QueuedPodInfo) -> bool:
        if a.pod.priority != b.pod.priority:
            return a.pod.priority > b.pod.priority
        return a.timestamp < b.timestamp
