"""The status a PodDisruptionBudget should report — the arithmetic of Kubernetes'
disruption controller (`getExpectedPodCount`, `countHealthyPods`,
`buildDisruptedPodMap`, `UpdateDisruptionAllowedCondition`), as pure functions.

- `scaled(value, total)`: an IntOrString (`3` or `"30%"`) against `total`, percentages
  rounded up; ValueError for a string that is not a percentage.
- `needs_scale(spec)`: whether the budget is relative to its controllers' scale.
- `desired_healthy(spec, pods, scale)`: (expectedPods, desiredHealthy):
  `maxUnavailable` → scale - scaled(maxUnavailable) (at least 0); integer
  `minAvailable` → (number of pods, minAvailable); percentage `minAvailable` →
  (scale, scaled(minAvailable)). `scale` (the sum of the controllers' replicas)
  matters only when `needs_scale`.
- `disrupted_pods(status, pods, now)`: the status's `disruptedPods` without entries
  for pods that are gone or being deleted or older than `DELETION_TIMEOUT` (2 min);
  also answers when the next entry expires (a recheck time).
- `current_healthy(pods, disrupted)`: pods Ready, not being deleted, not just
  disrupted.
- `pdb_status(pdb, ...)`: the whole status, with the `DisruptionAllowed` condition
  (True/`SufficientPods` when disruptions are allowed, else False/`InsufficientPods`,
  or False/`SyncFailed` with the error on failure); `lastTransitionTime` moves only
  when the condition's status changes.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, Final

from kybernetes.client.events import event_time

from ..replicaset.pods import is_pod_ready, parse_time

Obj = dict[str, Any]

DELETION_TIMEOUT: Final = timedelta(minutes=2)
CONDITION: Final = "DisruptionAllowed"


def scaled(value: int | str, total: int) -> int:
    if isinstance(value, int):
        return value
    if not value.endswith("%") or not value[:-1].isdigit():
        raise ValueError(f"invalid value for IntOrString: invalid value {value!r}")
    return math.ceil(int(value[:-1]) * total / 100)


def needs_scale(spec: Obj) -> bool:
    return spec.get("maxUnavailable") is not None or isinstance(spec.get("minAvailable"), str)


def desired_healthy(spec: Obj, pods: list[Obj], scale: int) -> tuple[int, int]:
    max_unavailable = spec.get("maxUnavailable")
    min_available = spec.get("minAvailable")
    if max_unavailable is not None:
        return scale, max(scale - scaled(max_unavailable, scale), 0)
    if isinstance(min_available, int):
        return len(pods), min_available
    if isinstance(min_available, str):
        return scale, scaled(min_available, scale)
    return 0, 0


def disrupted_pods(
    status: Obj, pods: list[Obj], now: datetime
) -> tuple[dict[str, str], datetime | None]:
    by_name = {p["metadata"]["name"]: p for p in pods}
    kept: dict[str, str] = {}
    recheck: datetime | None = None
    for name, stamp in (status.get("disruptedPods") or {}).items():
        pod = by_name.get(name)
        when = parse_time(stamp)
        if pod is None or pod["metadata"].get("deletionTimestamp") or when is None:
            continue
        expires = when + DELETION_TIMEOUT
        if expires < now:
            continue
        kept[name] = stamp
        recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def current_healthy(pods: list[Obj], disrupted: dict[str, str]) -> int:
    return sum(
        1
        for p in pods
        if not p["metadata"].get("deletionTimestamp")
        and p["metadata"]["name"] not in disrupted
        and is_pod_ready(p)
    )


def pdb_status(
    pdb: Obj,
    now: datetime,
    *,
    expected: int = 0,
    desired: int = 0,
    healthy: int = 0,
    disrupted: dict[str, str] | None = None,
    error: str | None = None,
) -> Obj:
    """The PDB's new status (module docstring); `error` makes it fail safe."""
    old = pdb.get("status") or {}
    generation = pdb["metadata"].get("generation") or 0
    allowed = 0 if error is not None or expected <= 0 else max(healthy - desired, 0)
    if error is not None:
        status: Obj = {**old, "disruptionsAllowed": 0, "observedGeneration": generation}
        status_value, reason, message = "False", "SyncFailed", error
    else:
        status = {
            "currentHealthy": healthy,
            "desiredHealthy": desired,
            "expectedPods": expected,
            "disruptionsAllowed": allowed,
            "observedGeneration": generation,
        }
        if disrupted:
            status["disruptedPods"] = disrupted
        status_value = "True" if allowed > 0 else "False"
        reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
        message = ""
    conditions = [dict(c) for c in old.get("conditions") or []]
    previous = next((c for c in conditions if c.get("type") == CONDITION), None)
    condition = {
        "type": CONDITION,
        "status": status_value,
        "reason": reason,
        "message": message,
        "observedGeneration": generation,
        "lastTransitionTime": event_time(now),
    }
    if previous is not None and previous.get("status") == status_value:
        condition["lastTransitionTime"] = previous.get("lastTransitionTime")
    status["conditions"] = [c for c in conditions if c.get("type") != CONDITION] + [condition]
    return status
