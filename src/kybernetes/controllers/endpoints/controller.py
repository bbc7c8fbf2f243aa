"""`EndpointsController`: one v1 Endpoints object per Service with a selector, listing
the addresses of the pods it selects — Kubernetes' `pkg/controller/endpoint`.

`sync(key)`:
- Service gone: its Endpoints are deleted (syncs come from Service events, deleted
  Endpoints, and, at start, every Endpoints but leader-election records, so an
  Endpoints written by hand without a Service is left alone while the controller
  runs, as in Kubernetes). No selector, or type ExternalName: left
  alone (somebody else manages them).
- Each selected pod that has an IP and is not Succeeded/Failed (nor being deleted,
  unless `publishNotReadyAddresses`) gives an address (`ip`, `nodeName`,
  `hostname` when its subdomain is the Service, `targetRef`) with one port per
  service port whose `targetPort` the pod has (named ports resolved per pod); ready
  pods (or all, with `publishNotReadyAddresses`) go to `addresses`, the others to
  `notReadyAddresses`. Addresses with the same ports share a subset (RepackSubsets);
  a headless Service without ports gets port-less subsets.
- At most 1000 addresses are kept (annotation `endpoints.kubernetes.io/over-capacity:
  truncated`). Labels are the Service's plus `service.kubernetes.io/headless` for a
  headless Service; the `endpoints.kubernetes.io/last-change-trigger-time` annotation
  is set on every write.
- Nothing is written when subsets, labels and the capacity annotation are unchanged.

Writes are creates or compare-and-swap updates; failures raise (the key is retried).
"""

from __future__ import annotations

import json
from typing import Any, Final

from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    APIError,
    Clock,
    Informer,
    SharedInformerFactory,
    is_forbidden,
    is_not_found,
    object_key,
    split_key,
)
from kybernetes.client.resource import ENDPOINTS

from ..base import event_key
from ..replicaset.pods import is_pod_ready
from .base import ServicePodsController
from .podutil import (
    HEADLESS_LABEL,
    TRIGGER_TIME_ANNOTATION,
    endpoint_ports,
    is_headless,
    pod_ip,
    selected_pods,
    service_selector,
    should_be_in_endpoints,
    should_set_hostname,
    target_ref,
    trigger_time,
)

Obj = dict[str, Any]

MAX_CAPACITY: Final = 1000
OVER_CAPACITY_ANNOTATION: Final = "endpoints.kubernetes.io/over-capacity"
LEADER_ANNOTATION: Final = "control-plane.alpha.kubernetes.io/leader"


class EndpointsController(ServicePodsController):
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        workers: int = 5,
    ) -> None:
        super().__init__(client, factory, clock=clock, workers=workers)
        self.endpoints = factory.informer(ENDPOINTS)
        self.endpoints.add_handler(on_delete=lambda e: self.queue.add(event_key(e)))

    def extra_informers(self) -> list[Informer]:
        return [self.endpoints]

    def startup_keys(self) -> list[str]:
        """Every Endpoints (Kubernetes' `checkLeftoverEndpoints`), so those whose
        Service went while no controller ran are deleted; leader-election records
        are left alone."""
        return [
            object_key(endpoints)
            for endpoints in self.endpoints.indexer.list()
            if LEADER_ANNOTATION not in (endpoints["metadata"].get("annotations") or {})
        ]

    async def sync(self, key: str) -> None:
        """Reconciles the Endpoints of Service `key` (module docstring)."""
        namespace, name = split_key(key)
        service = self.services.indexer.get(key)
        current = self.endpoints.indexer.get(key)
        if service is None:
            if current is not None:
                try:
                    await self.client.delete(ENDPOINTS, name, namespace)
                except APIError as e:
                    if not is_not_found(e):
                        raise
            return
        selector = service_selector(service)
        if selector is None or (service.get("spec") or {}).get("type") == "ExternalName":
            return
        pods = selected_pods(selector, self.pods.indexer.by_index(BY_NAMESPACE, namespace))
        subsets, truncated = endpoint_subsets(service, pods)
        labels = dict(service["metadata"].get("labels") or {})
        if is_headless(service):
            labels[HEADLESS_LABEL] = ""
        else:
            labels.pop(HEADLESS_LABEL, None)
        if current is not None:
            meta = current["metadata"]
            annotations = meta.get("annotations") or {}
            if (
                (current.get("subsets") or []) == subsets
                and (meta.get("labels") or {}) == labels
                and (OVER_CAPACITY_ANNOTATION in annotations) == truncated
            ):
                return
        annotations = dict(((current or {}).get("metadata") or {}).get("annotations") or {})
        annotations.pop(OVER_CAPACITY_ANNOTATION, None)
        if truncated:
            annotations[OVER_CAPACITY_ANNOTATION] = "truncated"
        changed = trigger_time(service, pods)
        if changed:
            annotations[TRIGGER_TIME_ANNOTATION] = changed
        endpoints: Obj = {
            "apiVersion": "v1",
            "kind": "Endpoints",
            "metadata": {"name": name, "namespace": namespace, "labels": labels},
        }
        if annotations:
            endpoints["metadata"]["annotations"] = annotations
        if subsets:
            endpoints["subsets"] = subsets
        if current is None:
            try:
                await self.client.create(ENDPOINTS, endpoints)
            except APIError as e:
                if not is_forbidden(e):  # a terminating namespace refuses creations
                    raise
            return
        endpoints["metadata"]["resourceVersion"] = current["metadata"].get("resourceVersion")
        await self.client.update(ENDPOINTS, endpoints)


def endpoint_subsets(service: Obj, pods: list[Obj]) -> tuple[list[Obj], bool]:
    """The Endpoints subsets for `service` and its selected `pods`, packed and sorted,
    and whether they were truncated to `MAX_CAPACITY` addresses."""
    spec = service.get("spec") or {}
    publish = bool(spec.get("publishNotReadyAddresses"))
    headless_without_ports = is_headless(service) and not spec.get("ports")
    groups: dict[str, tuple[list[Obj], list[Obj], list[Obj]]] = {}
    for pod in pods:
        ip = pod_ip(pod)
        if ip is None or not should_be_in_endpoints(pod, publish):
            continue
        ports = endpoint_ports(service, pod)
        if not ports and not headless_without_ports:
            continue
        address: Obj = {"ip": ip, "targetRef": target_ref(pod)}
        if (pod.get("spec") or {}).get("nodeName"):
            address["nodeName"] = pod["spec"]["nodeName"]
        if should_set_hostname(pod, service):
            address["hostname"] = pod["spec"]["hostname"]
        ports = sorted(ports, key=lambda p: (p.get("name", ""), p["port"], p["protocol"]))
        group_key = json.dumps(ports, sort_keys=True)
        ready, not_ready, _ = groups.setdefault(group_key, ([], [], ports))
        (ready if publish or is_pod_ready(pod) else not_ready).append(address)
    subsets: list[Obj] = []
    budget, truncated = MAX_CAPACITY, False
    for group_key in sorted(groups):
        ready, not_ready, ports = groups[group_key]
        subset: Obj = {}
        for field, addresses in (("addresses", ready), ("notReadyAddresses", not_ready)):
            addresses.sort(key=lambda a: (a["ip"], a["targetRef"].get("uid", "")))
            if len(addresses) > budget:
                addresses, truncated = addresses[:budget], True
            budget -= len(addresses)
            if addresses:
                subset[field] = addresses
        if subset:
            if ports:
                subset["ports"] = ports
            subsets.append(subset)
    return subsets, truncated
