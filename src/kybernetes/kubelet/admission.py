"""Pod admission: the kubelet's second look at a pod the scheduler placed here
(pkg/kubelet/lifecycle/predicate.go), because the node may have changed since, or
the pod may have been bound by hand.

`admit(pod, node, others)` answers None (admitted) or (reason, message) for the pod's
status, checked in Kubernetes' order, first failure wins:
1. resources: pod count, then cpu, memory, ephemeral-storage and extended resources
   requested (max of the init containers and the sum of the containers, plus
   overhead) against allocatable minus what `others` (the admitted, non-terminal pods)
   request → `OutOfpods`, `OutOfcpu`, `OutOfmemory`, `OutOfephemeral-storage`
   (`OutOf<name>` for others) with "Node didn't have enough resource: cpu,
   requested: 2000, used: 0, capacity: 1000" (cpu in millicores);
2. node selector and required node affinity → `NodeAffinity`;
3. NoExecute taints the pod does not tolerate (not checked for static pods) →
   `TaintToleration`.
Messages are prefixed "Pod was rejected: " as the kubelet writes them. Pure functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from kybernetes.api.quantity import QuantityError, quantity_from_json
from kybernetes.api.tolerations import tolerates

Obj = dict[str, Any]
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"
SOURCE_ANNOTATION = "kubernetes.io/config.source"
_OUT_OF = {
    "cpu": "OutOfcpu",
    "memory": "OutOfmemory",
    "ephemeral-storage": "OutOfephemeral-storage",
}


def _amount(name: str, value: Any) -> int:
    try:
        quantity = quantity_from_json(value)
    except QuantityError:
        return 0
    return quantity.milli_value() if name == "cpu" else quantity.value()


def _requests(container: Mapping[str, Any]) -> dict[str, int]:
    requests = (container.get("resources") or {}).get("requests") or {}
    return {name: _amount(name, value) for name, value in requests.items()}


def pod_requests(spec: Mapping[str, Any]) -> dict[str, int]:
    """Resource name → what the pod requests (cpu in millicores, others in units)."""
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        for name, amount in _requests(container).items():
            total[name] = total.get(name, 0) + amount
    for container in spec.get("initContainers") or []:
        for name, amount in _requests(container).items():
            total[name] = max(total.get(name, 0), amount)
    for name, value in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, 0) + _amount(name, value)
    return total


def is_static(pod: Mapping[str, Any]) -> bool:
    annotations = (pod.get("metadata") or {}).get("annotations") or {}
    return annotations.get(SOURCE_ANNOTATION, "api") != "api" or MIRROR_ANNOTATION in annotations


def _fits(
    pod: Obj, allocatable: Mapping[str, Any], others: Sequence[Obj]
) -> tuple[str, str] | None:
    pods_allowed = _amount("pods", allocatable.get("pods", 0))
    if len(others) + 1 > pods_allowed:
        message = (
            f"Node didn't have enough resource: pods, requested: 1, used: {len(others)}, "
            f"capacity: {pods_allowed}"
        )
        return "OutOfpods", message
    wanted = pod_requests(pod.get("spec") or {})
    used: dict[str, int] = {}
    for other in others:
        for name, amount in pod_requests(other.get("spec") or {}).items():
            used[name] = used.get(name, 0) + amount
    ordered: list[str] = [n for n in ("cpu", "memory", "ephemeral-storage") if n in wanted]
    ordered += sorted(n for n in wanted if n not in ordered)
    for name in ordered:
        requested = wanted[name]
        if requested == 0:
            continue
        capacity = _amount(name, allocatable.get(name, 0))
        if requested > capacity - used.get(name, 0):
            message = (
                f"Node didn't have enough resource: {name}, requested: {requested}, "
                f"used: {used.get(name, 0)}, capacity: {capacity}"
            )
            return _OUT_OF.get(name, f"OutOf{name}"), message
    return None


def _match_expression(expression: Mapping[str, Any], value: str | None) -> bool:
    operator = expression.get("operator")
    values = expression.get("values") or []
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            left, right = Decimal(int(value)), Decimal(int(values[0]))
        except ValueError:
            return False
        return left > right if operator == "Gt" else left < right
    return False


def _match_term(term: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    expressions = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not expressions and not fields:
        return False  # an empty term matches nothing
    if not all(_match_expression(e, labels.get(e.get("key", ""))) for e in expressions):
        return False
    return all(
        _match_expression(f, name if f.get("key") == "metadata.name" else None) for f in fields
    )


def matches_node(spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """The pod's nodeSelector and required node affinity accept the node."""
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    selector = spec.get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return False
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not required:
        return True
    terms = required.get("nodeSelectorTerms") or []
    return any(_match_term(t, labels, meta.get("name", "")) for t in terms)


def admit(pod: Obj, node: Obj, others: Sequence[Obj]) -> tuple[str, str] | None:
    """None if the pod may run here, else (reason, message) (see module docstring)."""
    spec = pod.get("spec") or {}
    allocatable = (node.get("status") or {}).get("allocatable") or {}
    failure = _fits(pod, allocatable, others)
    if failure is None and not matches_node(spec, node):
        failure = (
            "NodeAffinity",
            "Predicate NodeAffinity failed: node(s) didn't match Pod's node affinity/selector",
        )
    if failure is None and not is_static(pod):
        tolerations = spec.get("tolerations") or []
        taints = (node.get("spec") or {}).get("taints") or []
        if any(
            t.get("effect") == "NoExecute" and not any(tolerates(x, t) for x in tolerations)
            for t in taints
        ):
            failure = (
                "TaintToleration",
                "Predicate TaintToleration failed: node(s) had taints that the pod didn't tolerate",
            )
    if failure is None:
        return None
    reason, message = failure
    return reason, f"Pod was rejected: {message}"
