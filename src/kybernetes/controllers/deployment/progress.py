"""A Deployment's status and conditions, computed from its ReplicaSets (Kubernetes'
`calculateStatus`, `syncRolloutStatus` and `progress.go`). Pure functions.

Status: `replicas` / `readyReplicas` / `availableReplicas` sum the sets' status,
`updatedReplicas` is the new set's, `unavailableReplicas` is the desired total
(sum of the sets' spec) minus the available ones, never negative.

Conditions:
- `Available`: True/`MinimumReplicasAvailable` once at least replicas -
  maxUnavailable pods are available, else False/`MinimumReplicasUnavailable`.
- `Progressing` (only with a progress deadline): True/`NewReplicaSetAvailable` once
  the rollout is complete; True/`ReplicaSetUpdated` whenever it made progress;
  False/`ProgressDeadlineExceeded` when `progressDeadlineSeconds` passed since the
  condition was last updated. The sync also sets True/`NewReplicaSetCreated` or
  `FoundNewReplicaSet`, and Unknown/`DeploymentPaused` / `DeploymentResumed`.
- `ReplicaFailure`: copied from a ReplicaSet that has one (the newest's wins).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..replicaset.pods import parse_time
from .util import (
    AVAILABLE,
    PROGRESSING,
    REPLICA_FAILURE,
    get_condition,
    max_unavailable,
    new_condition,
    progress_deadline,
    remove_condition,
    replicas,
    set_condition,
    status_int,
    total_replicas,
    total_status,
)

Obj = dict[str, Any]

NEW_RS_AVAILABLE = "NewReplicaSetAvailable"
RS_UPDATED = "ReplicaSetUpdated"
TIMED_OUT = "ProgressDeadlineExceeded"
NEW_RS_CREATED = "NewReplicaSetCreated"
FOUND_NEW_RS = "FoundNewReplicaSet"
PAUSED = "DeploymentPaused"
RESUMED = "DeploymentResumed"


def calculate_status(d: Obj, all_sets: list[Obj], new_rs: Obj | None, now: datetime) -> Obj:
    """The status the Deployment should report (conditions: Available updated,
    the others as they were)."""
    available = total_status(all_sets, "availableReplicas")
    old = d.get("status") or {}
    status: Obj = {
        "observedGeneration": (d.get("metadata") or {}).get("generation") or 0,
        "replicas": total_status(all_sets, "replicas"),
        "updatedReplicas": status_int(new_rs, "replicas"),
        "readyReplicas": total_status(all_sets, "readyReplicas"),
        "availableReplicas": available,
        "unavailableReplicas": max(total_replicas(all_sets) - available, 0),
    }
    if old.get("collisionCount") is not None:
        status["collisionCount"] = old["collisionCount"]
    if old.get("conditions"):
        status["conditions"] = [dict(c) for c in old["conditions"]]
    if available >= replicas(d) - max_unavailable(d):
        message = "Deployment has minimum availability."
        condition = new_condition(AVAILABLE, "True", "MinimumReplicasAvailable", message, now)
    else:
        condition = new_condition(
            AVAILABLE,
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
            now,
        )
    set_condition(status, condition)
    return status


def is_complete(d: Obj, status: Obj) -> bool:
    """Every desired replica is updated and available, and the spec was observed."""
    desired = replicas(d)
    generation = int((d.get("metadata") or {}).get("generation") or 0)
    counts = (status.get(f) or 0 for f in ("updatedReplicas", "replicas", "availableReplicas"))
    return all(c == desired for c in counts) and (
        int(status.get("observedGeneration") or 0) >= generation
    )


def _is_progressing(d: Obj, new: Obj) -> bool:
    old = d.get("status") or {}

    def get(status: Obj, field: str) -> int:
        return int(status.get(field) or 0)

    old_stale = get(old, "replicas") - get(old, "updatedReplicas")
    new_stale = get(new, "replicas") - get(new, "updatedReplicas")
    return (
        get(new, "updatedReplicas") > get(old, "updatedReplicas")
        or new_stale < old_stale
        or get(new, "readyReplicas") > get(old, "readyReplicas")
        or get(new, "availableReplicas") > get(old, "availableReplicas")
    )


def _timed_out(d: Obj, status: Obj, now: datetime) -> bool:
    deadline = progress_deadline(d)
    condition = get_condition(status, PROGRESSING)
    if deadline is None or condition is None or condition.get("reason") == NEW_RS_AVAILABLE:
        return False
    if condition.get("reason") == TIMED_OUT:
        return True
    updated = parse_time(condition.get("lastUpdateTime"))
    return updated is not None and (now - updated).total_seconds() > deadline


def rollout_status(d: Obj, all_sets: list[Obj], new_rs: Obj | None, now: datetime) -> Obj:
    """`calculate_status` plus the Progressing and ReplicaFailure conditions."""
    status = calculate_status(d, all_sets, new_rs, now)
    if progress_deadline(d) is None:
        remove_condition(status, PROGRESSING)
    current = get_condition(status, PROGRESSING)
    complete = (
        status["replicas"] == status["updatedReplicas"]
        and current is not None
        and current.get("reason") == NEW_RS_AVAILABLE
    )
    name = (new_rs or d)["metadata"]["name"]
    what = "ReplicaSet" if new_rs is not None else "Deployment"
    if progress_deadline(d) is not None and not complete:
        if is_complete(d, status):
            message = f'{what} "{name}" has successfully progressed.'
            set_condition(
                status, new_condition(PROGRESSING, "True", NEW_RS_AVAILABLE, message, now)
            )
        elif _is_progressing(d, status):
            message = f'{what} "{name}" is progressing.'
            condition = new_condition(PROGRESSING, "True", RS_UPDATED, message, now)
            if current is not None and current["status"] == "True":
                condition["lastTransitionTime"] = current.get("lastTransitionTime")
            remove_condition(status, PROGRESSING)
            set_condition(status, condition)
        elif _timed_out(d, status, now):
            message = f'{what} "{name}" has timed out progressing.'
            set_condition(status, new_condition(PROGRESSING, "False", TIMED_OUT, message, now))
    failures = [
        get_condition(rs.get("status") or {}, REPLICA_FAILURE)
        for rs in ([new_rs] if new_rs is not None else []) + all_sets
    ]
    failure = next((f for f in failures if f is not None), None)
    if failure is not None:
        set_condition(
            status,
            new_condition(
                REPLICA_FAILURE, failure["status"], failure["reason"], failure["message"], now
            ),
        )
    else:
        remove_condition(status, REPLICA_FAILURE)
    return status


def requeue_after(d: Obj, status: Obj, now: datetime) -> float | None:
    """When to look again at a rollout that may miss its deadline (None: no need)."""
    deadline = progress_deadline(d)
    condition = get_condition(status, PROGRESSING)
    if deadline is None or condition is None:
        return None
    if is_complete(d, status) or condition.get("reason") == TIMED_OUT:
        return None
    updated = parse_time(condition.get("lastUpdateTime"))
    if updated is None:
        return None
    after = updated.timestamp() + deadline - now.timestamp()
    return after if after >= 1 else 0.0


def status_equal(a: Obj, b: Obj) -> bool:
    """Equal but for the conditions' lastUpdateTime (which moves every sync)."""

    def strip(status: Obj) -> Obj:
        conditions = [
            {k: v for k, v in c.items() if k != "lastUpdateTime"}
            for c in status.get("conditions") or []
        ]
        return {**status, "conditions": conditions}

    return strip(a) == strip(b)
