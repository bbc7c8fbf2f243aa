"""What a DaemonSet sync should do (Kubernetes' `manage`, `rollingUpdate` and
`updateDaemonSetStatus` decisions), as pure functions of the cached state.

`NodeState(node, should_run, should_continue, pods)`: one node and the DaemonSet's
live (not being deleted) pods on or pinned to it, oldest first.

- `manage(ds, nodes, hash, now)` -> (nodes needing a pod, pods to delete): a node that
  should run the daemon and has no pod gets one; its Failed or Succeeded pods are
  deleted (and replaced next sync); extra running pods are deleted, keeping the
  oldest - or, when surge is allowed, the oldest current-hash pod and the oldest old
  one only while the old one is ready and the new one not yet available; a node
  that should no longer keep the daemon loses all its pods.
- `rolling_update(ds, nodes, hash, now)` -> (old pods to delete, nodes to surge onto):
  with `maxSurge` 0, old pods are deleted while fewer than `maxUnavailable` nodes are
  unavailable (old pods that are unavailable anyway always go); with `maxSurge` > 0,
  new pods start beside old ones on up to `maxSurge` nodes, and an old pod goes once
  its node's new pod is available. Percentages are of the desired nodes, rounded up;
  if both resolve to 0, maxUnavailable is 1.
- `status(ds, nodes, hash, now)`: desiredNumberScheduled, currentNumberScheduled,
  numberMisscheduled, numberReady, numberAvailable, numberUnavailable,
  updatedNumberScheduled (the oldest pod of each node counts), observedGeneration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..deployment.util import scaled_value
from ..history import CONTROLLER_REVISION_HASH
from ..replicaset.pods import is_pod_available, is_pod_ready

Obj = dict[str, Any]

TEMPLATE_GENERATION = "pod-template-generation"
TEMPLATE_GENERATION_ANNOTATION = "deprecated.daemonset.template.generation"


@dataclass(slots=True)
class NodeState:
    node: Obj
    should_run: bool
    should_continue: bool
    pods: list[Obj] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.node["metadata"]["name"])


def _min_ready(ds: Obj) -> int:
    return int((ds.get("spec") or {}).get("minReadySeconds") or 0)


def is_updated(ds: Obj, pod: Obj, hash_: str) -> bool:
    """The pod runs the current template (its hash label, or the template generation)."""
    labels = pod["metadata"].get("labels") or {}
    generation = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
    if generation is not None and labels.get(TEMPLATE_GENERATION) == generation:
        return True
    return bool(hash_) and labels.get(CONTROLLER_REVISION_HASH) == hash_


def _rolling(ds: Obj) -> Obj | None:
    strategy = (ds.get("spec") or {}).get("updateStrategy") or {}
    if (strategy.get("type") or "RollingUpdate") != "RollingUpdate":
        return None
    return dict(strategy.get("rollingUpdate") or {})


def surge_and_unavailable(ds: Obj, desired: int) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) against the desired node count (see module doc)."""
    rolling = _rolling(ds) or {}
    surge = scaled_value(rolling.get("maxSurge", 0), desired, True)
    unavailable = scaled_value(rolling.get("maxUnavailable", 1), desired, True)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def allows_surge(ds: Obj) -> bool:
    """Whether a rolling update may run two pods on a node (maxSurge of 1 node > 0)."""
    rolling = _rolling(ds)
    return rolling is not None and scaled_value(rolling.get("maxSurge", 0), 1, True) > 0


def manage(
    ds: Obj, nodes: list[NodeState], hash_: str, now: datetime
) -> tuple[list[str], list[Obj]]:
    """(node names needing a daemon pod, pods to delete); see module docstring."""
    create: list[str] = []
    delete: list[Obj] = []
    surge = allows_surge(ds)
    for state in nodes:
        if state.should_run and not state.pods:
            create.append(state.name)
            continue
        if not state.should_continue:
            delete.extend(state.pods)
            continue
        running: list[Obj] = []
        for pod in state.pods:
            if (pod.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
                delete.append(pod)
            else:
                running.append(pod)
        if len(running) <= 1:
            continue
        if not surge:
            delete.extend(running[1:])
            continue
        oldest_new = next((p for p in running if is_updated(ds, p, hash_)), None)
        oldest_old = next((p for p in running if not is_updated(ds, p, hash_)), None)
        delete.extend(p for p in running if p is not oldest_new and p is not oldest_old)
        if oldest_new is not None and oldest_old is not None:
            new_available = is_pod_available(oldest_new, _min_ready(ds), now)
            if not is_pod_ready(oldest_old) or new_available:
                delete.append(oldest_old)
    return create, delete


def _split(ds: Obj, pods: list[Obj], hash_: str) -> tuple[Obj | None, Obj | None, bool]:
    """(new pod, old pod, ok) of a node; not ok if it has two of either kind."""
    new = old = None
    for pod in pods:
        if is_updated(ds, pod, hash_):
            if new is not None:
                return None, None, False
            new = pod
        else:
            if old is not None:
                return None, None, False
            old = pod
    return new, old, True


def rolling_update(
    ds: Obj, nodes: list[NodeState], hash_: str, now: datetime
) -> tuple[list[Obj], list[str]]:
    """(old pods to delete, node names to surge onto); see module docstring."""
    desired = sum(1 for s in nodes if s.should_run)
    max_surge, max_unavailable = surge_and_unavailable(ds, desired)
    min_ready = _min_ready(ds)
    if max_surge == 0:
        unavailable = 0
        replace: list[Obj] = []
        candidates: list[Obj] = []
        for state in nodes:
            if not state.pods:
                continue
            new, old, ok = _split(ds, state.pods, hash_)
            if not ok or (new is not None and old is not None):
                unavailable += 1  # the manage loop cleans this node up first
            elif new is not None:
                unavailable += 0 if is_pod_available(new, min_ready, now) else 1
            elif old is not None and not is_pod_available(old, min_ready, now):
                replace.append(old)
            elif old is not None and unavailable < max_unavailable:
                candidates.append(old)
        room = min(max(max_unavailable - unavailable, 0), len(candidates))
        return replace + candidates[:room], []
    surged = 0
    to_delete: list[Obj] = []
    allowed: list[str] = []
    candidate_nodes: list[str] = []
    for state in nodes:
        if not state.should_run:
            continue
        new, old, ok = _split(ds, state.pods, hash_)
        if not ok:
            surged += 1
        elif old is None:
            continue
        elif new is None:
            if not is_pod_available(old, min_ready, now):
                allowed.append(state.name)
            elif surged < max_surge:
                candidate_nodes.append(state.name)
        elif not is_pod_available(new, min_ready, now):
            surged += 1
        else:
            to_delete.append(old)
    room = min(max(max_surge - surged, 0), len(candidate_nodes))
    return to_delete, allowed + candidate_nodes[:room]


def status(ds: Obj, nodes: list[NodeState], hash_: str, now: datetime) -> Obj:
    """The DaemonSet's status counts (see module docstring)."""
    desired = current = misscheduled = ready = available = updated = 0
    for state in nodes:
        pods = [
            p
            for p in state.pods
            if (p.get("status") or {}).get("phase")
            not in (
                "Failed",
                "Succeeded",
            )
        ]
        if not state.should_run:
            misscheduled += 1 if pods else 0
            continue
        desired += 1
        if not pods:
            continue
        current += 1
        pod = pods[0]
        if is_pod_ready(pod):
            ready += 1
            available += 1 if is_pod_available(pod, _min_ready(ds), now) else 0
        updated += 1 if is_updated(ds, pod, hash_) else 0
    return {
        "currentNumberScheduled": current,
        "numberMisscheduled": misscheduled,
        "desiredNumberScheduled": desired,
        "numberReady": ready,
        "observedGeneration": ds["metadata"].get("generation") or 0,
        "updatedNumberScheduled": updated,
        "numberAvailable": available,
        "numberUnavailable": desired - available,
    }
