"""Pure helpers of the Deployment controller (Kubernetes' `deployment/util`).

- Pod-template hash: `compute_hash(template, collision_count)`. Kubernetes hashes the
  template printed by Go's `spew` with FNV-32a; those bytes cannot be reproduced
  here, so we hash the canonical JSON of the template (sorted keys, no spaces) with
  FNV-32a, then the collision count as 4 little-endian bytes, as Kubernetes does, and
  encode the decimal of the sum with Kubernetes' `SafeEncodeString` alphabet. Hashes
  are therefore stable across restarts and releases of kybernetes, but differ from
  the ones a real kube-controller-manager would compute for the same template.
- Fenceposts: `max_surge` (percentages round up) and `max_unavailable` (round down;
  if both resolve to 0, unavailable becomes 1).
- Replica arithmetic over ReplicaSets, revisions, the `desired-replicas` /
  `max-replicas` annotations, and Deployment conditions.

Objects are JSON dicts; functions never mutate their arguments unless they say so.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from kybernetes.client.events import event_time

from ..replicaset.pods import parse_time

Obj = dict[str, Any]

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_NOT_COPIED = {LAST_APPLIED, REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS}

PROGRESSING = "Progressing"
AVAILABLE = "Available"
REPLICA_FAILURE = "ReplicaFailure"
MAX_INT32 = 2**31 - 1

_SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


# --- hashing and templates ------------------------------------------------------------


def _fnv32a(data: bytes, value: int = 0x811C9DC5) -> int:
    for byte in data:
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return value


def safe_encode(text: str) -> str:
    """Kubernetes' `rand.SafeEncodeString`: each byte mapped into a vowel-free alphabet."""
    return "".join(_SAFE_ALPHABET[ord(c) % len(_SAFE_ALPHABET)] for c in text)


def compute_hash(template: Obj, collision_count: int | None) -> str:
    """The pod-template hash (see the module docstring for how it differs from Go's)."""
    canonical = json.dumps(template, sort_keys=True, separators=(",", ":"))
    value = _fnv32a(canonical.encode())
    if collision_count is not None:
        value = _fnv32a((collision_count & 0xFFFFFFFF).to_bytes(4, "little"), value)
    return safe_encode(str(value))


def _without_hash(template: Obj) -> Obj:
    template = copy.deepcopy(template)
    labels = (template.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
        if not labels:
            del template["metadata"]["labels"]
    return template


def equal_ignore_hash(a: Obj, b: Obj) -> bool:
    """Whether two pod templates are equal but for the pod-template-hash label."""
    return _without_hash(a) == _without_hash(b)


# --- fenceposts -----------------------------------------------------------------------


def scaled_value(value: int | str | None, total: int, round_up: bool) -> int:
    """An IntOrString (`3` or `"25%"`) against `total`; ValueError if malformed."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    if not value.endswith("%"):
        raise ValueError(f"invalid value for IntOrString: {value!r}")
    percent = int(value[:-1])
    scaled = percent * total / 100
    return math.ceil(scaled) if round_up else math.floor(scaled)


def replicas(obj: Obj | None) -> int:
    """`spec.replicas` (default 1 as the API defaults it; 0 for None)."""
    if obj is None:
        return 0
    return int((obj.get("spec") or {}).get("replicas", 1))


def is_rolling(d: Obj) -> bool:
    strategy = (d.get("spec") or {}).get("strategy") or {}
    return (strategy.get("type") or "RollingUpdate") == "RollingUpdate"


def _fenceposts(d: Obj) -> tuple[int, int]:
    rolling = ((d.get("spec") or {}).get("strategy") or {}).get("rollingUpdate") or {}
    desired = replicas(d)
    surge = scaled_value(rolling.get("maxSurge", "25%"), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", "25%"), desired, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_surge(d: Obj) -> int:
    return _fenceposts(d)[0] if is_rolling(d) else 0


def max_unavailable(d: Obj) -> int:
    if not is_rolling(d) or replicas(d) == 0:
        return 0
    return min(_fenceposts(d)[1], replicas(d))


# --- replica sets ---------------------------------------------------------------------


def status_int(obj: Obj | None, field: str) -> int:
    return int(((obj or {}).get("status") or {}).get(field) or 0)


def total_replicas(sets: Iterable[Obj | None]) -> int:
    return sum(replicas(rs) for rs in sets if rs is not None)


def total_status(sets: Iterable[Obj | None], field: str) -> int:
    return sum(status_int(rs, field) for rs in sets if rs is not None)


def active(sets: Iterable[Obj]) -> list[Obj]:
    return [rs for rs in sets if replicas(rs) > 0]


def created_key(obj: Obj) -> tuple[float, str]:
    """Oldest first, ties by name (Kubernetes' `ReplicaSetsByCreationTimestamp`)."""
    meta = obj["metadata"]
    created = parse_time(meta.get("creationTimestamp"))
    return (created.timestamp() if created else 0.0, meta.get("name") or "")


def revision(obj: Obj) -> int:
    """The revision annotation as a number (0 if absent or malformed)."""
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION) or "0"
    try:
        return int(text)
    except ValueError:
        return 0


def annotation_int(obj: Obj, name: str) -> int | None:
    text = ((obj.get("metadata") or {}).get("annotations") or {}).get(name)
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def replicas_annotations(d: Obj) -> dict[str, str]:
    desired = replicas(d)
    return {DESIRED_REPLICAS: str(desired), MAX_REPLICAS: str(desired + max_surge(d))}


def new_rs_annotations(d: Obj, rs: Obj, new_revision: int, exists: bool) -> dict[str, str]:
    """The annotations the new ReplicaSet should carry (Kubernetes'
    `SetNewReplicaSetAnnotations`): the Deployment's own (but for the controller's
    and kubectl's), the revision (raised, never lowered) and, for a new set, the
    replica annotations."""
    annotations = dict((rs.get("metadata") or {}).get("annotations") or {})
    for name, value in ((d.get("metadata") or {}).get("annotations") or {}).items():
        if name not in _NOT_COPIED:
            annotations[name] = value
    if revision(rs) < new_revision:
        annotations[REVISION] = str(new_revision)
    if not exists:
        annotations.update(replicas_annotations(d))
    return annotations


def is_saturated(d: Obj, rs: Obj | None) -> bool:
    """The new set runs (and has available) exactly the Deployment's replicas."""
    if rs is None:
        return False
    desired = replicas(d)
    return (
        annotation_int(rs, DESIRED_REPLICAS) == desired
        and replicas(rs) == desired
        and status_int(rs, "availableReplicas") == desired
    )


# --- conditions -----------------------------------------------------------------------


def get_condition(status: Obj, type_: str) -> Obj | None:
    for condition in status.get("conditions") or []:
        if condition.get("type") == type_:
            return dict(condition)
    return None


def new_condition(type_: str, status: str, reason: str, message: str, now: datetime) -> Obj:
    stamp = event_time(now)
    return {
        "type": type_,
        "status": status,
        "lastUpdateTime": stamp,
        "lastTransitionTime": stamp,
        "reason": reason,
        "message": message,
    }


def set_condition(status: Obj, condition: Obj) -> None:
    """Sets `condition` in `status` (mutated): no change if one of its type has the
    same status and reason; keeps lastTransitionTime when only the reason changes."""
    current = get_condition(status, condition["type"])
    if current is not None:
        if current["status"] == condition["status"] and current.get("reason") == condition.get(
            "reason"
        ):
            return
        if current["status"] == condition["status"]:
            condition = {**condition, "lastTransitionTime": current.get("lastTransitionTime")}
    remove_condition(status, condition["type"])
    status["conditions"] = [*(status.get("conditions") or []), condition]


def remove_condition(status: Obj, type_: str) -> None:
    """Removes conditions of `type_` from `status` (mutated)."""
    kept = [c for c in status.get("conditions") or [] if c.get("type") != type_]
    if kept:
        status["conditions"] = kept
    else:
        status.pop("conditions", None)


def progress_deadline(d: Obj) -> int | None:
    """`progressDeadlineSeconds`, or None when there is none (absent or MaxInt32)."""
    deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
    return None if deadline is None or deadline == MAX_INT32 else int(deadline)
