"""The status a ReplicaSet (or ReplicationController) should report, computed from
its active pods — Kubernetes' `calculateStatus`.

`replicas` counts active pods; `fullyLabeledReplicas` those carrying every label of
the template; `readyReplicas` the ready ones; `availableReplicas` those ready for
`minReadySeconds`. The `ReplicaFailure` condition is set (reason `FailedCreate` or
`FailedDelete`) when the last pod writes failed and removed once they succeed;
`observedGeneration` is the set's generation. Pure functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kybernetes.client.events import event_time

from .pods import is_pod_available, is_pod_ready

Obj = dict[str, Any]

REPLICA_FAILURE = "ReplicaFailure"


def calculate_status(
    owner: Obj, pods: list[Obj], failure: tuple[str, str] | None, now: datetime
) -> Obj:
    """The new status of `owner` given its active `pods` and the (reason, message)
    of the last failed manage step, if any."""
    spec = owner.get("spec") or {}
    template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    min_ready = int(spec.get("minReadySeconds") or 0)
    fully_labeled = ready = available = 0
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        if all(labels.get(k) == v for k, v in template_labels.items()):
            fully_labeled += 1
        if is_pod_ready(pod):
            ready += 1
            if is_pod_available(pod, min_ready, now):
                available += 1
    old = owner.get("status") or {}
    conditions = [dict(c) for c in old.get("conditions") or []]
    has_failure = any(c.get("type") == REPLICA_FAILURE for c in conditions)
    if failure is not None and not has_failure:
        reason, message = failure
        conditions.append(
            {
                "type": REPLICA_FAILURE,
                "status": "True",
                "lastTransitionTime": event_time(now),
                "reason": reason,
                "message": message,
            }
        )
    elif failure is None and has_failure:
        conditions = [c for c in conditions if c.get("type") != REPLICA_FAILURE]
    status: Obj = {
        "replicas": len(pods),
        "fullyLabeledReplicas": fully_labeled,
        "readyReplicas": ready,
        "availableReplicas": available,
        "observedGeneration": (owner.get("metadata") or {}).get("generation") or 0,
    }
    if conditions:
        status["conditions"] = conditions
    return status


def status_changed(owner: Obj, status: Obj) -> bool:
    """Whether `status` differs from what `owner` reports (absent counts as 0)."""
    old = owner.get("status") or {}
    for field, value in status.items():
        if field == "conditions":
            continue
        if (old.get(field) or 0) != value:
            return True
    return (old.get("conditions") or []) != (status.get("conditions") or [])
