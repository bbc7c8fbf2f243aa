"""Which pods a Job should create or remove next (Kubernetes' `manageJob` arithmetic and
`activePodsForRemoval`, `firstPendingIndexes`). Pure functions.

- `wanted_active`: with `completions` unset, `parallelism` until the first success,
  then no new pods (those running may finish); with `completions`, the remaining
  completions, at most `parallelism`, never negative.
- `pods_for_removal`: for Indexed jobs first the pods whose index is missing, out of
  range or a duplicate of another active pod's; then, if more must go, the rest in
  the ReplicaSet deletion order (`deletion_rank`: unscheduled, pending, not ready,
  newer first).
- `pending_indexes`: the lowest indexes neither succeeded nor held by an active pod.
- `new_pod`: a pod from the Job's template carrying the tracking finalizer and, for an
  Indexed job, its completion index (annotation and label), hostname `JOB-INDEX`,
  generateName `JOB-INDEX-`, and in every container the `JOB_COMPLETION_INDEX`
  environment variable, a downward-API reference to that annotation (the kubelet
  resolves it).
"""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

from ..replicaset.pods import deletion_rank, pod_from_template
from .util import COMPLETION_INDEX, TRACKING_FINALIZER, completion_index

Obj = dict[str, Any]

COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"
_INDEX_ENV: Obj = {
    "name": COMPLETION_INDEX_ENV,
    "valueFrom": {"fieldRef": {"fieldPath": f"metadata.annotations['{COMPLETION_INDEX}']"}},
}


def is_indexed(job: Obj) -> bool:
    return (job.get("spec") or {}).get("completionMode") == "Indexed"


def wanted_active(job: Obj, active: int, succeeded: int) -> int:
    """How many pods should be active now (see module docstring)."""
    spec = job.get("spec") or {}
    parallelism = int(spec.get("parallelism", 1))
    completions = spec.get("completions")
    if completions is None:
        return active if succeeded > 0 else parallelism
    return max(min(int(completions) - succeeded, parallelism), 0)


def _ranked(pods: list[Obj]) -> list[Obj]:
    on_node = Counter((p.get("spec") or {}).get("nodeName") for p in pods)
    return sorted(
        pods, key=lambda p: deletion_rank(p, on_node[(p.get("spec") or {}).get("nodeName")])
    )


def pods_for_removal(job: Obj, active: list[Obj], at_least: int) -> list[Obj]:
    """The active pods to delete (see module docstring); may exceed `at_least` for
    Indexed jobs with invalid or duplicate indexes."""
    if not is_indexed(job):
        return _ranked(active)[:at_least]
    completions = int((job.get("spec") or {}).get("completions") or 0)
    remove: list[Obj] = []
    left: list[Obj] = []
    seen: set[int] = set()
    for pod in sorted(active, key=lambda p: p["metadata"].get("creationTimestamp") or ""):
        index = completion_index(pod)
        if index is None or index >= completions or index in seen:
            remove.append(pod)
        else:
            seen.add(index)
            left.append(pod)
    if len(remove) < at_least:
        remove.extend(_ranked(left)[: at_least - len(remove)])
    return remove


def pending_indexes(
    completions: int, succeeded: set[int], active: list[Obj], count: int
) -> list[int]:
    """The `count` lowest indexes still to run (see module docstring)."""
    taken = succeeded | {i for p in active if (i := completion_index(p)) is not None}
    pending: list[int] = []
    for index in range(completions):
        if len(pending) == count:
            break
        if index not in taken:
            pending.append(index)
    return pending


def new_pod(job: Obj, index: int | None) -> Obj:
    """The pod to create (see module docstring)."""
    template = (job.get("spec") or {}).get("template") or {}
    pod = pod_from_template(job, template)
    meta = pod["metadata"]
    finalizers = meta.setdefault("finalizers", [])
    if TRACKING_FINALIZER not in finalizers:
        finalizers.append(TRACKING_FINALIZER)
    if index is not None:
        name = job["metadata"]["name"]
        meta["annotations"] = {**(meta.get("annotations") or {}), COMPLETION_INDEX: str(index)}
        meta["labels"] = {**meta["labels"], COMPLETION_INDEX: str(index)}
        meta["generateName"] = f"{name}-{index}-"
        pod["spec"]["hostname"] = f"{name}-{index}"
        for kind in ("initContainers", "containers"):
            for container in pod["spec"].get(kind) or []:
                env = container.setdefault("env", [])
                if not any(e.get("name") == COMPLETION_INDEX_ENV for e in env):
                    env.append(copy.deepcopy(_INDEX_ENV))
    return pod
