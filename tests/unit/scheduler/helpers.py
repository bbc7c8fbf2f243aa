"""Builders for node and pod objects used by the scheduler tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from kybernetes.scheduler.framework import CycleState, FilterResult
from kybernetes.scheduler.podinfo import PodInfo, pod_info
from kybernetes.scheduler.snapshot import NodeSnapshot


def node(
    name: str,
    *,
    cpu: str = "4",
    memory: str = "16Gi",
    pods: int = 110,
    labels: Mapping[str, str] | None = None,
    taints: Sequence[Mapping[str, str]] = (),
    unschedulable: bool = False,
    extra: Mapping[str, str] | None = None,
    images: Sequence[tuple[Sequence[str], int]] = (),
) -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {"taints": list(taints), "unschedulable": unschedulable},
        "status": {
            "allocatable": {"cpu": cpu, "memory": memory, "pods": str(pods), **(extra or {})},
            "images": [{"names": list(n), "sizeBytes": size} for n, size in images],
        },
    }


def pod(
    name: str = "p",
    *,
    requests: Mapping[str, str] | None = None,
    spec: Mapping[str, Any] | None = None,
) -> PodInfo:
    container: dict[str, Any] = {"name": "c", "image": "busybox"}
    if requests:
        container["resources"] = {"requests": dict(requests)}
    body = {"containers": [container], **(spec or {})}
    return pod_info({"metadata": {"name": name, "namespace": "default"}, "spec": body})


def snapshot_of(*nodes: dict[str, Any]) -> NodeSnapshot:
    snapshot = NodeSnapshot()
    for n in nodes:
        snapshot.add_node(n)
    return snapshot


def names(snapshot: NodeSnapshot, mask: np.typing.NDArray[np.bool_]) -> list[str]:
    return sorted(str(snapshot.names[i]) for i in np.flatnonzero(mask & snapshot.present))


def reasons(snapshot: NodeSnapshot, result: FilterResult) -> dict[str, list[str]]:
    found = {r.reason: names(snapshot, r.nodes) for r in result.rejections}
    return {reason: nodes for reason, nodes in found.items() if nodes}


def all_slots(snapshot: NodeSnapshot) -> np.typing.NDArray[np.intp]:
    return np.flatnonzero(snapshot.present)


def state() -> CycleState:
    return CycleState()
