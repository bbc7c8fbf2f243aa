"""Taints as the node lifecycle controller needs them (Kubernetes' taint manager's
`getMinTolerationTime` and the taints of `TaintNodesByCondition`); which tolerations
match which taints is `kybernetes.api.tolerations`.

- `min_toleration_seconds(tolerations)`: the shortest `tolerationSeconds` (negative
  ones count as 0); None when every toleration tolerates forever.
- `condition_taints(node)`: the NoSchedule taints a node's conditions call for.
- `with_taints(node, wanted, managed, now)`: the node's taint list with the `managed`
  keys replaced by `wanted` (an existing taint keeps its `timeAdded`).

Pure functions over JSON dicts; nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

from kybernetes.client.events import event_time

Obj = dict[str, Any]

NO_SCHEDULE: Final = "NoSchedule"
NO_EXECUTE: Final = "NoExecute"
NOT_READY: Final = "node.kubernetes.io/not-ready"
UNREACHABLE: Final = "node.kubernetes.io/unreachable"
UNSCHEDULABLE: Final = "node.kubernetes.io/unschedulable"

# (condition type, status) -> taint key, Kubernetes' nodeConditionToTaintKeyStatusMap.
CONDITION_TAINTS: Final = {
    ("Ready", "False"): NOT_READY,
    ("Ready", "Unknown"): UNREACHABLE,
    ("MemoryPressure", "True"): "node.kubernetes.io/memory-pressure",
    ("DiskPressure", "True"): "node.kubernetes.io/disk-pressure",
    ("NetworkUnavailable", "True"): "node.kubernetes.io/network-unavailable",
    ("PIDPressure", "True"): "node.kubernetes.io/pid-pressure",
}
CONDITION_TAINT_KEYS: Final = frozenset({*CONDITION_TAINTS.values(), UNSCHEDULABLE})


def min_toleration_seconds(tolerations: Iterable[Mapping[str, Any]]) -> float | None:
    """The shortest tolerationSeconds (<= 0 means at once); None = forever."""
    limits = [t["tolerationSeconds"] for t in tolerations if t.get("tolerationSeconds") is not None]
    if not limits:
        return None
    return float(max(min(int(s) for s in limits), 0))


def condition_taints(node: Obj) -> list[Obj]:
    """The NoSchedule taints for the node's conditions and `spec.unschedulable`."""
    taints: list[Obj] = []
    for condition in (node.get("status") or {}).get("conditions") or []:
        key = CONDITION_TAINTS.get((condition.get("type"), condition.get("status")))
        if key is not None:
            taints.append({"key": key, "effect": NO_SCHEDULE})
    if (node.get("spec") or {}).get("unschedulable"):
        taints.append({"key": UNSCHEDULABLE, "effect": NO_SCHEDULE})
    return taints


def with_taints(
    node: Obj, wanted: list[Obj], managed: set[tuple[str, str]], now: datetime
) -> list[Obj]:
    """The node's taints with every (key, effect) in `managed` replaced by `wanted`.
    New NoExecute taints get `timeAdded`; taints already present are kept as they are."""
    current = list((node.get("spec") or {}).get("taints") or [])
    present = {(t.get("key"), t.get("effect")): t for t in current}
    wanted_ids = {(t["key"], t["effect"]) for t in wanted}
    kept = [t for t in current if (t.get("key"), t.get("effect")) not in managed - wanted_ids]
    for taint in wanted:
        if (taint["key"], taint["effect"]) in present:
            continue
        new = dict(taint)
        if new["effect"] == NO_EXECUTE:
            new["timeAdded"] = event_time(now)
        kept.append(new)
    return kept
