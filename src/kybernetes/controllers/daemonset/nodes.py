"""Which nodes a DaemonSet's pod belongs on, and the pod it makes for one (Kubernetes'
`daemon/util` and the DaemonSet controller's `predicates`). Pure functions.

- `daemon_tolerations`: the tolerations every daemon pod gets on top of its
  template's: `node.kubernetes.io/not-ready` and `unreachable` (NoExecute, no
  tolerationSeconds: daemons survive node trouble), `disk-pressure`,
  `memory-pressure`, `pid-pressure` and `unschedulable` (NoSchedule), and
  `network-unavailable` (NoSchedule) for host-network pods.
- `should_run(ds, node)` -> (should run, should continue running): the node matches
  the template's `nodeSelector` and required node affinity, and tolerates the node's
  NoSchedule and NoExecute taints (to run) / its NoExecute taints (to keep running).
- `pod_node(pod)`: the node a daemon pod is on or pinned to (`spec.nodeName`, else the
  single `metadata.name` of its required affinity's matchFields).
- `pin_to_node(affinity, node)`: the affinity with its required node selector
  replaced by one `matchFields` term `metadata.name In [node]` (the scheduler binds).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kybernetes.api.tolerations import tolerates

Obj = dict[str, Any]

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
_NO_SCHEDULE_TOLERATED = (
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/unschedulable",
)
NETWORK_UNAVAILABLE = "node.kubernetes.io/network-unavailable"


def daemon_tolerations(spec: Obj) -> list[Obj]:
    """The pod spec's tolerations plus the daemon ones it lacks (see module docstring)."""
    tolerations = [dict(t) for t in spec.get("tolerations") or []]
    wanted = [(NOT_READY, "NoExecute"), (UNREACHABLE, "NoExecute")]
    wanted += [(key, "NoSchedule") for key in _NO_SCHEDULE_TOLERATED]
    if spec.get("hostNetwork"):
        wanted.append((NETWORK_UNAVAILABLE, "NoSchedule"))
    for key, effect in wanted:
        toleration = {"key": key, "operator": "Exists", "effect": effect}
        if toleration not in tolerations:
            tolerations.append(toleration)
    return tolerations


def _untolerated(tolerations: list[Obj], taints: list[Obj], effects: tuple[str, ...]) -> bool:
    return any(
        taint.get("effect") in effects and not any(tolerates(t, taint) for t in tolerations)
        for taint in taints
    )


def _requirement(labels: Mapping[str, str], requirement: Obj) -> bool:
    key, operator = requirement.get("key") or "", requirement.get("operator")
    values = [str(v) for v in requirement.get("values") or []]
    present = key in labels
    if operator == "In":
        return present and labels[key] in values
    if operator == "NotIn":
        return not present or labels[key] not in values
    if operator == "Exists":
        return present
    if operator == "DoesNotExist":
        return not present
    if operator in ("Gt", "Lt") and present and len(values) == 1:
        try:
            have, bound = int(labels[key]), int(values[0])
        except ValueError:
            return False
        return have > bound if operator == "Gt" else have < bound
    return False


def _term(node: Obj, term: Obj) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches no node
    labels = node["metadata"].get("labels") or {}
    names = {"metadata.name": node["metadata"]["name"]}
    return all(_requirement(labels, r) for r in expressions) and all(
        r.get("key") == "metadata.name" and _requirement(names, r) for r in fields
    )


def node_matches(pod_spec: Obj, node: Obj) -> bool:
    """The node satisfies the pod's nodeSelector and required node affinity."""
    labels = node["metadata"].get("labels") or {}
    selector = pod_spec.get("nodeSelector") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        return False
    affinity = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if affinity is None:
        return True
    return any(_term(node, term) for term in affinity.get("nodeSelectorTerms") or [])


def should_run(ds: Obj, node: Obj) -> tuple[bool, bool]:
    """(should run a daemon pod here, should keep a running one); see module docstring."""
    spec = ((ds.get("spec") or {}).get("template") or {}).get("spec") or {}
    if spec.get("nodeName") and spec["nodeName"] != node["metadata"]["name"]:
        return False, False
    if not node_matches(spec, node):
        return False, False
    tolerations = daemon_tolerations(spec)
    taints = (node.get("spec") or {}).get("taints") or []
    if _untolerated(tolerations, taints, ("NoExecute",)):
        return False, False
    return not _untolerated(tolerations, taints, ("NoSchedule",)), True


def pod_node(pod: Obj) -> str | None:
    """The node the daemon pod runs on or is pinned to (see module docstring)."""
    spec = pod.get("spec") or {}
    if spec.get("nodeName"):
        return str(spec["nodeName"])
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    for term in required.get("nodeSelectorTerms") or []:
        for field in term.get("matchFields") or []:
            values = field.get("values") or []
            by_name = field.get("key") == "metadata.name" and field.get("operator") == "In"
            if by_name and len(values) == 1:
                return str(values[0])
    return None


def pin_to_node(affinity: Obj | None, node: str) -> Obj:
    """`affinity` with the required node selector replaced (see module docstring)."""
    pinned = copy.deepcopy(affinity or {})
    term = {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}
    node_affinity = pinned.setdefault("nodeAffinity", {})
    node_affinity["requiredDuringSchedulingIgnoredDuringExecution"] = {"nodeSelectorTerms": [term]}
    return pinned
