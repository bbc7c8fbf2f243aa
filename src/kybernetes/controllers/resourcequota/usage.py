"""What objects charge against a ResourceQuota — Kubernetes' quota evaluators
(`pkg/quota/v1/evaluator/core`), as pure functions.

- `pod_usage(pod)`: `pods` and `count/pods` 1; `requests.cpu`/`cpu`, `limits.cpu`,
  the same for `memory` and `ephemeral-storage`; hugepages (`hugepages-*` and
  `requests.hugepages-*`) and extended resources (`requests.<domain>/<name>`). Pod
  requests and limits follow `PodRequests`: the containers' sum plus sidecars
  (restartable init containers), at least the largest init container (with the
  sidecars started before it), plus the pod overhead.
- `pod_counts(pod, now)`: only pods that are not Succeeded/Failed and not past their
  deletion grace period are charged.
- `pod_matches_scopes(quota, pod)`: the quota's `scopes` and `scopeSelector`
  (Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass,
  CrossNamespacePodAffinity) all match.
- `service_usage(service)`: `services`, `count/services`, `services.loadbalancers`,
  `services.nodeports`.
- `claim_usage(pvc)`: `persistentvolumeclaims`, `count/persistentvolumeclaims`,
  `requests.storage` and the per-StorageClass
  `<class>.storageclass.storage.k8s.io/{requests.storage,persistentvolumeclaims}`.
- `is_pod_resource` / `is_service_resource` / `is_claim_resource`: which evaluator
  a quota resource name belongs to (other names are object counts).
Malformed quantities count as zero. Nothing is mutated.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Final

from kybernetes.api.qos import qos_class
from kybernetes.api.quantity import Quantity, QuantityError, quantity_from_json

from ..replicaset.pods import parse_time

Obj = dict[str, Any]
Usage = dict[str, Quantity]

ONE: Final = Quantity(1)
_COMPUTE: Final = ("cpu", "memory", "ephemeral-storage")
STORAGE_CLASS_SUFFIX: Final = ".storageclass.storage.k8s.io/"


def _quantity(value: object) -> Quantity:
    try:
        return quantity_from_json(value)
    except QuantityError:
        return Quantity()


def _add(total: Usage, more: Iterable[tuple[str, Quantity]]) -> Usage:
    result = dict(total)
    for name, value in more:
        result[name] = result.get(name, Quantity()) + value
    return result


def _max(a: Usage, b: Usage) -> Usage:
    result = dict(a)
    for name, value in b.items():
        if name not in result or value > result[name]:
            result[name] = value
    return result


def pod_resources(pod: Obj, field: str) -> Usage:
    """The pod's effective `requests` or `limits` (module docstring)."""
    spec = pod.get("spec") or {}

    def of(container: Obj) -> Usage:
        values = (container.get("resources") or {}).get(field) or {}
        return {name: _quantity(v) for name, v in values.items()}

    total: Usage = {}
    for container in spec.get("containers") or []:
        total = _add(total, of(container).items())
    sidecars: Usage = {}
    init_peak: Usage = {}
    for container in spec.get("initContainers") or []:
        own = of(container)
        if container.get("restartPolicy") == "Always":
            total = _add(total, own.items())
            sidecars = _add(sidecars, own.items())
            own = sidecars
        else:
            own = _add(own, sidecars.items())
        init_peak = _max(init_peak, own)
    total = _max(total, init_peak)
    overhead = spec.get("overhead") or {}
    return _add(total, ((n, _quantity(v)) for n, v in overhead.items()))


def _is_extended(name: str) -> bool:
    return (
        "/" in name and not name.startswith("kubernetes.io/") and not name.startswith("requests.")
    )


def pod_usage(pod: Obj) -> Usage:
    """What one pod charges (module docstring)."""
    usage: Usage = {"pods": ONE, "count/pods": ONE}
    requests, limits = pod_resources(pod, "requests"), pod_resources(pod, "limits")
    for name in _COMPUTE:
        if name in requests:
            usage[name] = usage[f"requests.{name}"] = requests[name]
        if name in limits:
            usage[f"limits.{name}"] = limits[name]
    for name, value in requests.items():
        if name.startswith("hugepages-"):
            usage[name] = usage[f"requests.{name}"] = value
        elif _is_extended(name):
            usage[f"requests.{name}"] = value
    return usage


def pod_counts(pod: Obj, now: datetime) -> bool:
    """Whether the pod is charged at all (module docstring)."""
    if (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
        return False
    meta = pod["metadata"]
    deleted = parse_time(meta.get("deletionTimestamp"))
    grace = meta.get("deletionGracePeriodSeconds")
    return not (
        deleted is not None and grace is not None and now > deleted + timedelta(seconds=int(grace))
    )


def _best_effort(pod: Obj) -> bool:
    return qos_class(pod.get("spec") or {}) == "BestEffort"


def _cross_namespace_affinity(pod: Obj) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    for kind in ("podAffinity", "podAntiAffinity"):
        terms = affinity.get(kind) or {}
        required = terms.get("requiredDuringSchedulingIgnoredDuringExecution") or []
        preferred = [
            t.get("podAffinityTerm") or {}
            for t in terms.get("preferredDuringSchedulingIgnoredDuringExecution") or []
        ]
        for term in [*required, *preferred]:
            if term.get("namespaces") or term.get("namespaceSelector") is not None:
                return True
    return False


def _scope_matches(scope: str, operator: str, values: list[str], pod: Obj) -> bool:
    spec = pod.get("spec") or {}
    if scope == "PriorityClass":
        name = spec.get("priorityClassName") or ""
        if operator == "Exists":
            return bool(name)
        if operator == "In":
            return name in values
        if operator == "NotIn":
            return name not in values
        return False  # DoesNotExist: the scope's key is always there
    deadline = spec.get("activeDeadlineSeconds")
    matches = {
        "Terminating": deadline is not None and int(deadline) >= 0,
        "NotTerminating": deadline is None,
        "BestEffort": _best_effort(pod),
        "NotBestEffort": not _best_effort(pod),
        "CrossNamespacePodAffinity": _cross_namespace_affinity(pod),
    }.get(scope, False)
    return matches if operator in ("", "Exists") else not matches


def pod_matches_scopes(quota: Obj, pod: Obj) -> bool:
    spec = quota.get("spec") or {}
    selectors: list[tuple[str, str, list[str]]] = [
        (scope, "Exists", []) for scope in spec.get("scopes") or []
    ]
    for expression in (spec.get("scopeSelector") or {}).get("matchExpressions") or []:
        selectors.append(
            (
                expression.get("scopeName") or "",
                expression.get("operator") or "",
                list(expression.get("values") or []),
            )
        )
    return all(_scope_matches(s, op, values, pod) for s, op, values in selectors)


def service_usage(service: Obj) -> Usage:
    spec = service.get("spec") or {}
    ports = spec.get("ports") or []
    usage: Usage = {
        "services": ONE,
        "count/services": ONE,
        "services.loadbalancers": Quantity(),
        "services.nodeports": Quantity(),
    }
    kind = spec.get("type") or "ClusterIP"
    if kind == "NodePort":
        usage["services.nodeports"] = Quantity(len(ports))
    elif kind == "LoadBalancer":
        usage["services.loadbalancers"] = ONE
        if spec.get("allocateLoadBalancerNodePorts") is False:
            usage["services.nodeports"] = Quantity(sum(1 for p in ports if p.get("nodePort")))
        else:
            usage["services.nodeports"] = Quantity(len(ports))
    return usage


def claim_usage(claim: Obj) -> Usage:
    spec = claim.get("spec") or {}
    storage = _quantity(((spec.get("resources") or {}).get("requests") or {}).get("storage"))
    usage: Usage = {
        "persistentvolumeclaims": ONE,
        "count/persistentvolumeclaims": ONE,
        "requests.storage": storage,
    }
    annotations = claim["metadata"].get("annotations") or {}
    storage_class = spec.get("storageClassName") or annotations.get(
        "volume.beta.kubernetes.io/storage-class"
    )
    if storage_class:
        prefix = f"{storage_class}{STORAGE_CLASS_SUFFIX}"
        usage[f"{prefix}requests.storage"] = storage
        usage[f"{prefix}persistentvolumeclaims"] = ONE
    return usage


def is_pod_resource(name: str) -> bool:
    """Whether a quota resource name is charged by pods."""
    if name in ("pods", "count/pods", *_COMPUTE) or name.startswith("hugepages-"):
        return True
    if name == "requests.storage" or STORAGE_CLASS_SUFFIX in name:
        return False
    return name.startswith("requests.") or name.startswith("limits.")


def is_claim_resource(name: str) -> bool:
    return (
        name in ("persistentvolumeclaims", "count/persistentvolumeclaims", "requests.storage")
        or STORAGE_CLASS_SUFFIX in name
    )


def is_service_resource(name: str) -> bool:
    return name in ("services", "count/services", "services.loadbalancers", "services.nodeports")
