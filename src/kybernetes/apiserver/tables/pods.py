"""Pods and pod templates, as kube-apiserver 1.32's `printPod` and `printPodTemplate`.

The pod STATUS cell is the printer's aggregate: the phase (or `status.reason`),
overridden by `SchedulingGated`, then by the first init container that has not
finished (`Init:<reason>`, `Init:ExitCode:1`, `Init:Signal:9`, `Init:1/3`), or else
by the last container with a waiting/terminated reason (`CrashLoopBackOff`,
`Completed`, `ExitCode:137`); a `Completed` pod with a container still running reads
`Running` (or `NotReady`); a pod being deleted reads `Terminating` (or `Unknown` when
its node was lost). READY counts ready running containers over containers, sidecars
(restartable init containers) included. RESTARTS sums the restarts of the containers
that count, with `(<age> ago)` of the latest termination. Succeeded and Failed pods
carry a `Completed` row condition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .cells import (
    AGE,
    NAME,
    Column,
    Doc,
    Obj,
    PrintContext,
    Printer,
    deleting,
    dig,
    format_labels,
    integer,
    items,
    mapping,
    name_of,
    template_containers,
    text,
)
from .duration import age, human_duration, parse_time

_SUCCEEDED = {
    "type": "Completed",
    "status": "True",
    "reason": "Succeeded",
    "message": "The pod has completed successfully.",
}
_FAILED = {"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}

_POD_COLUMNS = (
    NAME,
    Column("Ready", "string", "The aggregate readiness state of this pod for accepting traffic."),
    Column("Status", "string", "The aggregate status of the containers in this pod."),
    Column(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the "
        "last container in this pod has restarted.",
    ),
    AGE,
    Column("IP", "string", Doc("core.v1.PodStatus", "podIP"), priority=1),
    Column("Node", "string", Doc("core.v1.PodSpec", "nodeName"), priority=1),
    Column("Nominated Node", "string", Doc("core.v1.PodStatus", "nominatedNodeName"), priority=1),
    Column("Readiness Gates", "string", Doc("core.v1.PodSpec", "readinessGates"), priority=1),
)


def _has_condition(pod: Obj, condition_type: str) -> bool | None:
    """The first condition of this type: True/False by its status, None if absent."""
    for condition in items(pod, "status", "conditions"):
        if isinstance(condition, dict) and condition.get("type") == condition_type:
            return condition.get("status") == "True"
    return None


def _finished_at(status: Obj) -> datetime | None:
    return parse_time(dig(status, "lastState", "terminated", "finishedAt"))


def _later(current: datetime | None, candidate: datetime | None) -> datetime | None:
    if candidate is None:
        return current
    return candidate if current is None or current < candidate else current


def _terminated_reason(terminated: Obj, prefix: str) -> str:
    if reason := text(terminated, "reason"):
        return prefix + reason
    if signal := integer(terminated, "signal"):
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{integer(terminated, 'exitCode')}"


class _PodSummary:
    """The READY, STATUS and RESTARTS of one pod (printPod's running totals)."""

    def __init__(self, pod: Obj) -> None:
        self.pod = pod
        phase = text(pod, "status", "phase")
        self.phase = phase
        self.reason = text(pod, "status", "reason") or phase
        self.restarts = 0
        self.sidecar_restarts = 0
        self.ready = 0
        self.last_restart: datetime | None = None
        self.last_sidecar_restart: datetime | None = None
        for condition in items(pod, "status", "conditions"):
            scheduled = dig(condition, "type") == "PodScheduled"
            if scheduled and dig(condition, "reason") == "SchedulingGated":
                self.reason = "SchedulingGated"
        init_containers = items(pod, "spec", "initContainers")
        self.sidecars = {
            text(c, "name") for c in init_containers if dig(c, "restartPolicy") == "Always"
        }
        self.total = len(items(pod, "spec", "containers")) + len(self.sidecars)
        initializing = self._scan_init_containers(len(init_containers))
        if not initializing or _has_condition(pod, "Initialized"):
            self._scan_containers()
        if deleting(pod):
            if text(pod, "status", "reason") == "NodeLost":
                self.reason = "Unknown"
            elif phase not in ("Succeeded", "Failed"):
                self.reason = "Terminating"

    def _scan_init_containers(self, declared: int) -> bool:
        for index, status in enumerate(items(self.pod, "status", "initContainerStatuses")):
            sidecar = text(status, "name") in self.sidecars
            self.restarts += integer(status, "restartCount")
            finished = _finished_at(status)
            self.last_restart = _later(self.last_restart, finished)
            if sidecar:
                self.sidecar_restarts += integer(status, "restartCount")
                self.last_sidecar_restart = _later(self.last_sidecar_restart, finished)
            terminated = mapping(status, "state", "terminated")
            waiting_reason = text(status, "state", "waiting", "reason")
            if dig(status, "state", "terminated") is not None and not integer(
                terminated, "exitCode"
            ):
                continue
            if sidecar and dig(status, "started") is True:
                self.ready += dig(status, "ready") is True
                continue
            if dig(status, "state", "terminated") is not None:
                self.reason = _terminated_reason(terminated, "Init:")
            elif waiting_reason and waiting_reason != "PodInitializing":
                self.reason = "Init:" + waiting_reason
            else:
                self.reason = f"Init:{index}/{declared}"
            return True
        return False

    def _scan_containers(self) -> None:
        self.restarts = self.sidecar_restarts
        self.last_restart = self.last_sidecar_restart
        has_running = False
        for status in reversed(items(self.pod, "status", "containerStatuses")):
            self.restarts += integer(status, "restartCount")
            self.last_restart = _later(self.last_restart, _finished_at(status))
            state = mapping(status, "state")
            if waiting_reason := text(state, "waiting", "reason"):
                self.reason = waiting_reason
            elif state.get("terminated") is not None:
                self.reason = _terminated_reason(mapping(state, "terminated"), "")
            elif dig(status, "ready") is True and state.get("running") is not None:
                has_running = True
                self.ready += 1
        if self.reason == "Completed" and has_running:
            self.reason = "Running" if _has_condition(self.pod, "Ready") else "NotReady"

    def restarts_cell(self, now: datetime) -> str:
        if self.restarts and self.last_restart is not None:
            return f"{self.restarts} ({human_duration(now - self.last_restart)} ago)"
        return str(self.restarts)


def _readiness_gates(pod: Obj) -> str:
    gates = items(pod, "spec", "readinessGates")
    if not gates:
        return "<none>"
    ready = sum(1 for g in gates if _has_condition(pod, text(g, "conditionType")))
    return f"{ready}/{len(gates)}"


def _pod_row(pod: Obj, ctx: PrintContext) -> list[Any]:
    summary = _PodSummary(pod)
    cells: list[Any] = [
        name_of(pod),
        f"{summary.ready}/{summary.total}",
        summary.reason,
        summary.restarts_cell(ctx.now),
        age(dig(pod, "metadata", "creationTimestamp"), ctx.now),
    ]
    if ctx.wide:
        cells += [
            text(pod, "status", "podIPs", 0, "ip") or "<none>",
            text(pod, "spec", "nodeName") or "<none>",
            text(pod, "status", "nominatedNodeName") or "<none>",
            _readiness_gates(pod),
        ]
    return cells


def _pod_conditions(pod: Obj) -> list[dict[str, str]] | None:
    phase = text(pod, "status", "phase")
    if phase == "Succeeded":
        return [dict(_SUCCEEDED)]
    if phase == "Failed":
        return [dict(_FAILED)]
    return None


def _pod_template_row(template: Obj, ctx: PrintContext) -> list[Any]:
    names, images = template_containers(template, "template")
    labels = dig(template, "template", "metadata", "labels")
    return [name_of(template), names, images, format_labels(labels)]


PRINTERS = {
    ("", "Pod"): Printer(_POD_COLUMNS, _pod_row, conditions=_pod_conditions),
    ("", "PodTemplate"): Printer(
        (
            NAME,
            Column("Containers", "string", "Names of each container in the template."),
            Column("Images", "string", "Images referenced by each container in the template."),
            Column("Pod Labels", "string", "The labels for the pod template."),
        ),
        _pod_template_row,
    ),
}
