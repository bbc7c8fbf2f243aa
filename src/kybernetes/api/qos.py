"""A pod's quality-of-service class, as Kubernetes computes it (`qos.GetPodQOS`).

Only cpu and memory count. BestEffort: no container or init container requests or
limits either; Guaranteed: every container has cpu and memory limits and the summed
requests equal the summed limits; Burstable otherwise. Malformed quantities count as
absent (validation rejects them anyway).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from kybernetes.api.quantity import QuantityError, quantity_from_json


def qos_class(spec: Mapping[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort (pkg/apis/core/helper/qos), from cpu and
    memory requests and limits of every container and init container."""
    requests: dict[str, Decimal] = {}
    limits: dict[str, Decimal] = {}
    all_limited = True
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    for container in containers:
        resources = container.get("resources") or {}
        for into, values in (
            (requests, resources.get("requests")),
            (limits, resources.get("limits")),
        ):
            for name in ("cpu", "memory"):
                value = _quantity((values or {}).get(name))
                if value is not None and value > 0:
                    into[name] = into.get(name, Decimal(0)) + value
        container_limits = resources.get("limits") or {}
        if not all((_quantity(container_limits.get(n)) or 0) > 0 for n in ("cpu", "memory")):
            all_limited = False
    if not requests and not limits:
        return "BestEffort"
    compute = ("cpu", "memory")
    if (
        all_limited
        and limits.keys() == set(compute)
        and all(requests.get(n, limits[n]) == limits[n] for n in compute)
    ):
        return "Guaranteed"
    return "Burstable"


def _quantity(value: Any) -> Decimal | None:
    if value is None:
        return None
    try:
        return quantity_from_json(value).decimal
    except QuantityError:
        return None
