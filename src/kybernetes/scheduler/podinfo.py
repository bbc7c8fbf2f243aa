"""What the scheduler needs from a pod, computed once per pod version (`PodInfo`).

Effective requests follow Kubernetes' `resourcehelper.PodRequests` (1.32): the sum of
the regular containers' requests and of the sidecars' (init containers with
`restartPolicy: Always`), compared per resource with each regular init container's
requests plus the sidecars started before it (the larger wins), plus `spec.overhead`.
cpu is counted in millicores, every other resource in units (`Quantity.value()`).

`non_zero_requests` is the same aggregation with Kubernetes' scoring defaults filled in
for a container that omits a cpu (100m) or memory (200Mi) request; scorers use it.

Only resources the scheduler accounts for are kept: cpu, memory, ephemeral-storage
and the "scalar" resources (extended resources such as nvidia.com/gpu, hugepages-*,
attachable-volumes-*). `node_affinity_key` identifies the pod's nodeSelector and node
affinity, so plugins can share work between pods of one template. `pod_info` caches
by (uid, resourceVersion); a pod without both is recomputed on every call. Malformed
quantities raise `QuantityError`. `Toleration` and `tolerated` come from
`kybernetes.api.tolerations` (re-exported here for the plugins).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import orjson

from kybernetes.api.quantity import Quantity, quantity_from_json
from kybernetes.api.tolerations import Toleration as Toleration
from kybernetes.api.tolerations import tolerated as tolerated
from kybernetes.scheduler.podaffinity import PodAffinity, parse_pod_affinity

CPU: Final = "cpu"
MEMORY: Final = "memory"
EPHEMERAL_STORAGE: Final = "ephemeral-storage"
PODS: Final = "pods"
DEFAULT_MILLI_CPU_REQUEST: Final = 100
DEFAULT_MEMORY_REQUEST: Final = 200 * 1024 * 1024
_NON_ZERO_DEFAULTS: Final = {CPU: Decimal("0.1"), MEMORY: Decimal(DEFAULT_MEMORY_REQUEST)}
_CACHE_SIZE: Final = 16384


def is_scalar_resource(name: str) -> bool:
    """Extended, hugepages or attachable-volumes resources (`IsScalarResourceName`)."""
    if name.startswith(("hugepages-", "attachable-volumes-")):
        return True
    return "/" in name and not name.startswith("requests.")


def is_accounted(name: str) -> bool:
    """Whether NodeResourcesFit accounts for the resource at all."""
    return name in (CPU, MEMORY, EPHEMERAL_STORAGE) or is_scalar_resource(name)


def to_int(name: str, value: Decimal) -> int:
    """A resource amount as the scheduler stores it: millicores for cpu, else units."""
    quantity = Quantity(value)
    return quantity.milli_value() if name == CPU else quantity.value()


@dataclass(frozen=True, slots=True)
class HostPort:
    ip: str
    protocol: str
    port: int


@dataclass(frozen=True, slots=True)
class PodInfo:
    """A pod as the scheduler sees it; `pod` is the original object, not to be mutated."""

    pod: Mapping[str, Any]
    key: str
    namespace: str
    name: str
    labels: Mapping[str, str]
    scheduler_name: str
    node_name: str
    priority: int
    requests: Mapping[str, int]
    non_zero_requests: Mapping[str, int]
    tolerations: tuple[Toleration, ...]
    node_selector: Mapping[str, str]
    node_affinity_key: bytes
    required_node_affinity: tuple[Mapping[str, Any], ...] | None
    preferred_node_affinity: tuple[Mapping[str, Any], ...]
    host_ports: tuple[HostPort, ...]
    images: tuple[str, ...]
    scheduling_gates: tuple[str, ...]
    affinity: PodAffinity
    spread_constraints: tuple[Mapping[str, Any], ...]
    preemption_policy: str
    terminating: bool
    start_time: str
    controller: tuple[str, str] | None  # (kind, name) of the controlling ownerReference


_cache: dict[tuple[str, str], PodInfo] = {}


def pod_info(pod: Mapping[str, Any]) -> PodInfo:
    """The cached `PodInfo` of this version of the pod."""
    metadata = pod.get("metadata") or {}
    uid, version = metadata.get("uid") or "", metadata.get("resourceVersion") or ""
    if uid and version and (cached := _cache.get((uid, version))) is not None:
        return cached
    info = _build(pod)
    if uid and version:
        if len(_cache) >= _CACHE_SIZE:
            _cache.clear()
        _cache[(uid, version)] = info
    return info


def _build(pod: Mapping[str, Any]) -> PodInfo:
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    namespace, name = metadata.get("namespace") or "", metadata.get("name") or ""
    containers = list(spec.get("containers") or ())
    init_containers = list(spec.get("initContainers") or ())
    affinity = (spec.get("affinity") or {}).get("nodeAffinity") or {}
    required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
    labels = dict(metadata.get("labels") or {})
    controller = next(
        (
            (ref.get("kind") or "", ref.get("name") or "")
            for ref in metadata.get("ownerReferences") or ()
            if ref.get("controller")
        ),
        None,
    )
    return PodInfo(
        pod=pod,
        key=metadata.get("uid") or f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        labels=labels,
        scheduler_name=spec.get("schedulerName") or "default-scheduler",
        node_name=spec.get("nodeName") or "",
        priority=int(spec.get("priority") or 0),
        requests=pod_requests(spec, non_zero=False),
        non_zero_requests=pod_requests(spec, non_zero=True),
        tolerations=tuple(Toleration.from_json(t) for t in spec.get("tolerations") or ()),
        node_selector=dict(spec.get("nodeSelector") or {}),
        node_affinity_key=orjson.dumps(
            [spec.get("nodeSelector"), affinity], option=orjson.OPT_SORT_KEYS
        ),
        required_node_affinity=(
            None if required is None else tuple(required.get("nodeSelectorTerms") or ())
        ),
        preferred_node_affinity=tuple(
            affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()
        ),
        host_ports=tuple(
            HostPort(p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", int(p["hostPort"]))
            for c in containers
            for p in c.get("ports") or ()
            if int(p.get("hostPort") or 0) > 0
        ),
        images=tuple(
            normalized_image_name(c.get("image") or "") for c in (*init_containers, *containers)
        ),
        scheduling_gates=tuple(g.get("name", "") for g in spec.get("schedulingGates") or ()),
        affinity=parse_pod_affinity(spec.get("affinity") or {}, namespace, labels),
        spread_constraints=tuple(spec.get("topologySpreadConstraints") or ()),
        preemption_policy=spec.get("preemptionPolicy") or "PreemptLowerPriority",
        terminating=bool(metadata.get("deletionTimestamp")),
        start_time=(pod.get("status") or {}).get("startTime") or "",
        controller=controller,
    )


def normalized_image_name(name: str) -> str:
    """The image name with ":latest" appended when it has no tag (ImageLocality's rule)."""
    return name if name.rfind(":") > name.rfind("/") else name + ":latest"


def pod_requests(spec: Mapping[str, Any], *, non_zero: bool) -> dict[str, int]:
    """The pod's effective requests (see the module docstring), zero entries dropped."""
    total: dict[str, Decimal] = {}
    sidecars: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for container in spec.get("containers") or ():
        _add(total, _container_requests(container, non_zero))
    for container in spec.get("initContainers") or ():
        requests = _container_requests(container, non_zero)
        if container.get("restartPolicy") == "Always":
            _add(total, requests)
            _add(sidecars, requests)
            _max(init_peak, sidecars)
        else:
            running = dict(requests)
            _add(running, sidecars)
            _max(init_peak, running)
    _max(total, init_peak)
    _add(total, _parse(spec.get("overhead") or {}))
    return {name: amount for name, value in total.items() if (amount := to_int(name, value))}


def _container_requests(container: Mapping[str, Any], non_zero: bool) -> dict[str, Decimal]:
    requests = _parse((container.get("resources") or {}).get("requests") or {})
    if non_zero:
        for name, default in _NON_ZERO_DEFAULTS.items():
            requests.setdefault(name, default)
    return requests


def _parse(resources: Mapping[str, Any]) -> dict[str, Decimal]:
    return {
        name: quantity_from_json(value).decimal
        for name, value in resources.items()
        if is_accounted(name)
    }


def _add(into: dict[str, Decimal], other: Mapping[str, Decimal]) -> None:
    for name, value in other.items():
        into[name] = into.get(name, Decimal(0)) + value


def _max(into: dict[str, Decimal], other: Mapping[str, Decimal]) -> None:
    for name, value in other.items():
        if name not in into or value > into[name]:
            into[name] = value
