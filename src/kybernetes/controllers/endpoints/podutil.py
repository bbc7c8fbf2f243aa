"""Which pods back a Service, and how: the helpers the Endpoints and EndpointSlice
controllers share (Kubernetes' `pkg/controller/util/endpoint` and `podutil.FindPort`).

- `service_selector(service)`: the Service's selector, or None for a Service without
  one (its endpoints are somebody else's business).
- `selected_pods(service, pods)`: the namespace's pods the selector matches.
- `should_be_in_endpoints(pod, include_terminating)`: not Succeeded/Failed, has an
  IP, and (unless `include_terminating`) not being deleted.
- `find_port(pod, service_port)`: the container port a service port's `targetPort`
  names on this pod (a number as is; a name looked up among the pod's container ports
  of the same protocol; None when the pod has no such port).
- `should_set_hostname(pod, service)`: the pod's hostname goes into its endpoint when
  its `subdomain` is the Service's name and its namespace the Service's.
- `pod_ip(pod)`, `trigger_time(service, pods)`, `endpoint_relevant(pod)` (the fields
  whose change can change a pod's endpoint), `is_headless(service)`.

Pure functions over JSON dicts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kybernetes.api.selectors import Selector, selector_from_set

from ..replicaset.pods import is_pod_ready, parse_time, ready_condition

Obj = dict[str, Any]

TRIGGER_TIME_ANNOTATION = "endpoints.kubernetes.io/last-change-trigger-time"
HEADLESS_LABEL = "service.kubernetes.io/headless"


def service_selector(service: Obj) -> Selector | None:
    selector = (service.get("spec") or {}).get("selector")
    return selector_from_set(selector) if selector else None


def selected_pods(selector: Selector, pods: Iterable[Obj]) -> list[Obj]:
    return [p for p in pods if selector.matches(p["metadata"].get("labels") or {})]


def is_headless(service: Obj) -> bool:
    return (service.get("spec") or {}).get("clusterIP") == "None"


def pod_ip(pod: Obj, family: int = 4) -> str | None:
    """The pod's first IP of the given family (status.podIPs, else status.podIP; the
    API server validated them, so a colon tells IPv6)."""
    status = pod.get("status") or {}
    candidates = [p.get("ip") for p in status.get("podIPs") or []] or [status.get("podIP")]
    for candidate in candidates:
        if candidate and (6 if ":" in candidate else 4) == family:
            return str(candidate)
    return None


def should_be_in_endpoints(pod: Obj, include_terminating: bool) -> bool:
    status = pod.get("status") or {}
    if status.get("phase") in ("Succeeded", "Failed"):
        return False
    if not status.get("podIP") and not status.get("podIPs"):
        return False
    return include_terminating or not pod["metadata"].get("deletionTimestamp")


def find_port(pod: Obj, service_port: Obj) -> int | None:
    """The port number `service_port.targetPort` means on `pod` (module docstring)."""
    target = service_port.get("targetPort")
    if target is None or target == "" or target == 0:
        target = service_port.get("port")
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol") or "TCP"
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and (port.get("protocol") or "TCP") == protocol:
                number = port.get("containerPort")
                return int(number) if number is not None else None
    return None


def endpoint_ports(service: Obj, pod: Obj) -> list[Obj]:
    """The ports of `pod`'s endpoint: one per service port the pod has, in order."""
    ports = []
    for service_port in (service.get("spec") or {}).get("ports") or []:
        number = find_port(pod, service_port)
        if number is None:
            continue
        port: Obj = {"port": number, "protocol": service_port.get("protocol") or "TCP"}
        if service_port.get("name"):
            port["name"] = service_port["name"]
        if service_port.get("appProtocol"):
            port["appProtocol"] = service_port["appProtocol"]
        ports.append(port)
    return ports


def should_set_hostname(pod: Obj, service: Obj) -> bool:
    spec = pod.get("spec") or {}
    return (
        bool(spec.get("hostname"))
        and spec.get("subdomain") == service["metadata"]["name"]
        and pod["metadata"].get("namespace") == service["metadata"].get("namespace")
    )


def target_ref(pod: Obj) -> Obj:
    meta = pod["metadata"]
    ref = {"kind": "Pod", "namespace": meta["namespace"], "name": meta["name"]}
    if meta.get("uid"):
        ref["uid"] = meta["uid"]
    return ref


def trigger_time(service: Obj, pods: Iterable[Obj]) -> str | None:
    """The latest change among the Service and its pods: the Service's creation, each
    pod's creation or Ready transition (Kubernetes' trigger-time tracking, kept
    stateless: the newest such time)."""
    stamps = [service["metadata"].get("creationTimestamp")]
    for pod in pods:
        stamps.append(pod["metadata"].get("creationTimestamp"))
        stamps.append((ready_condition(pod) or {}).get("lastTransitionTime"))
    times = [(t, s) for s in stamps if s and (t := parse_time(s)) is not None]
    return max(times)[1] if times else None


def endpoint_relevant(pod: Obj) -> tuple[Any, ...]:
    """What of a pod its endpoints depend on; a change elsewhere needs no sync."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    return (
        meta.get("labels"),
        meta.get("deletionTimestamp"),
        spec.get("nodeName"),
        spec.get("hostname"),
        spec.get("subdomain"),
        status.get("phase"),
        status.get("podIP"),
        status.get("podIPs"),
        is_pod_ready(pod),
        [c.get("ports") for c in spec.get("containers") or []],
    )
