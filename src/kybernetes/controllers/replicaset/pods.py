"""Pod and ownership helpers shared by the workload controllers (Kubernetes'
`controller_utils.go` and `pod_util.go`, the parts these controllers need).

- Readiness: `is_pod_ready` (the Ready condition is True), `is_pod_available`
  (ready for at least `min_ready_seconds`, measured from the condition's
  lastTransitionTime against the given wall time); `with_condition` sets a
  condition, replacing any of its type.
- `is_pod_active`: not Succeeded/Failed and not being deleted; only active pods
  count toward a controller's replicas.
- `deletion_rank`: Kubernetes' `ActivePodsWithRanks` order; sorting by it puts the
  pod to delete first: unscheduled < scheduled, Pending < Unknown < Running, not
  ready < ready, more siblings on the same node first, ready for less time first,
  more restarts first, newer before older.
- `owner_reference`: the ownerReference a controller writes (controller=true,
  blockOwnerDeletion=true); `controller_ref` (the controlling one of an object) is
  `..base.controller_ref`, re-exported here for the controllers that import it
  from this module.
- `pod_from_template`: a new pod for a controller (generateName `<owner>-`).

All functions are pure; objects are JSON dicts and are never mutated.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from ..base import controller_ref as controller_ref

Obj = dict[str, Any]

_PHASE_ORDER = {"Pending": 0, "Unknown": 1, "Running": 2}


def parse_time(text: str | None) -> datetime | None:
    """An RFC 3339 timestamp as an aware datetime (None if absent or malformed)."""
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def ready_condition(pod: Obj) -> Obj | None:
    """A copy of the Ready condition of a pod (or a node), if it has one."""
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return dict(condition)
    return None


def with_condition(pod: Obj, new: Obj) -> Obj:
    """The pod with condition `new` replacing any of its type (appended last)."""
    status = pod.get("status") or {}
    others = [c for c in status.get("conditions") or [] if c.get("type") != new["type"]]
    return {**pod, "status": {**status, "conditions": [*others, new]}}


def is_pod_ready(pod: Obj) -> bool:
    condition = ready_condition(pod)
    return condition is not None and condition.get("status") == "True"


def is_pod_available(pod: Obj, min_ready_seconds: int, now: datetime) -> bool:
    """Ready, and for at least `min_ready_seconds` (always, when that is 0)."""
    condition = ready_condition(pod)
    if condition is None or condition.get("status") != "True":
        return False
    if min_ready_seconds <= 0:
        return True
    since = parse_time(condition.get("lastTransitionTime"))
    return since is not None and (now - since).total_seconds() >= min_ready_seconds


def is_pod_active(pod: Obj) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    deleting = (pod.get("metadata") or {}).get("deletionTimestamp")
    return phase not in ("Succeeded", "Failed") and not deleting


def owner_reference(owner: Obj) -> Obj:
    """The controlling ownerReference pointing at `owner`."""
    meta = owner["metadata"]
    return {
        "apiVersion": owner["apiVersion"],
        "kind": owner["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def pod_from_template(owner: Obj, template: Obj) -> Obj:
    """A pod to create for `owner` from its pod template (labels, annotations,
    finalizers and spec copied; generateName `<owner name>-`)."""
    meta = template.get("metadata") or {}
    pod_meta: Obj = {
        "generateName": f"{owner['metadata']['name']}-",
        "namespace": owner["metadata"]["namespace"],
        "labels": dict(meta.get("labels") or {}),
        "ownerReferences": [owner_reference(owner)],
    }
    if meta.get("annotations"):
        pod_meta["annotations"] = dict(meta["annotations"])
    if meta.get("finalizers"):
        pod_meta["finalizers"] = list(meta["finalizers"])
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": pod_meta,
        "spec": copy.deepcopy(template.get("spec") or {}),
    }


def _restarts(pod: Obj) -> int:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return sum(int(s.get("restartCount") or 0) for s in statuses)


def deletion_rank(pod: Obj, siblings_on_node: int) -> tuple[Any, ...]:
    """A sort key: pods that sort first are deleted first (see module docstring).
    `siblings_on_node` counts the controller's active pods on this pod's node."""
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod["metadata"]
    ready = is_pod_ready(pod)
    ready_since = parse_time((ready_condition(pod) or {}).get("lastTransitionTime"))
    created = parse_time(meta.get("creationTimestamp"))
    return (
        bool(spec.get("nodeName")),
        _PHASE_ORDER.get(status.get("phase") or "", 0),
        ready,
        -siblings_on_node,
        # Ready for less time first: later transition sorts first.
        -(ready_since.timestamp()) if ready and ready_since else 0.0,
        -_restarts(pod),
        -(created.timestamp()) if created else 0.0,
    )
