"""`EndpointSliceController`: the discovery.k8s.io/v1 EndpointSlices of every Service
with a selector — Kubernetes' `pkg/controller/endpointslice` (IPv4 slices).

`sync(key)` builds one endpoint per selected pod that has an IPv4 address and is not
Succeeded/Failed (terminating pods included): `addresses`, `conditions` (`serving` =
pod Ready, `terminating` = being deleted, `ready` = serving and not terminating, or
always with `publishNotReadyAddresses`), `targetRef`, `nodeName`, `zone` (the node's
`topology.kubernetes.io/zone` label), `hints` for that zone when the Service's
`trafficDistribution` is PreferClose, and `hostname` (pod subdomain = Service name).
Pods are grouped by their resolved port set (named target ports resolved per pod;
a pod lacking every port is left out). `reconcile.plan` turns that into few writes
over the slices this controller manages (label `endpointslice.kubernetes.io/managed-by:
endpointslice-controller.k8s.io`), at most `max_endpoints_per_slice` endpoints each.
Slices carry the Service's labels plus `kubernetes.io/service-name` (and
`service.kubernetes.io/headless` for a headless Service), a controlling
ownerReference to the Service (the garbage collector deletes them with it) and the
`endpoints.kubernetes.io/last-change-trigger-time` annotation. ExternalName Services
lose their slices; Services without a selector are left alone.

`writer.SliceWriter` writes the plan (creates and updates before deletes) and tracks
the writes: while the informer has not caught up with them the sync waits (it is
requeued by the slice events) instead of acting on a stale cache.
"""

from __future__ import annotations

from typing import Any, Final

from kybernetes.client import (
    BY_NAMESPACE,
    BY_NODE,
    APIClient,
    Clock,
    Informer,
    SharedInformerFactory,
    split_key,
)
from kybernetes.client.resource import ENDPOINTSLICES, NODES

from ..base import enqueue_related
from ..endpoints.base import ServicePodsController
from ..endpoints.podutil import (
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
from ..replicaset.pods import is_pod_ready, owner_reference
from .reconcile import PortKey, plan, port_key
from .writer import SliceWriter

Obj = dict[str, Any]

SERVICE_NAME_LABEL: Final = "kubernetes.io/service-name"
MANAGED_BY_LABEL: Final = "endpointslice.kubernetes.io/managed-by"
CONTROLLER_NAME: Final = "endpointslice-controller.k8s.io"
ZONE_LABEL: Final = "topology.kubernetes.io/zone"
ADDRESS_TYPE: Final = "IPv4"
BY_SERVICE: Final = "by_service"


def managed_service_keys(slice_: Obj, controller: str) -> list[str]:
    """[the `namespace/name` of the slice's Service] when `controller` manages the
    slice (its managed-by label), else []."""
    meta = slice_.get("metadata") or {}
    labels = meta.get("labels") or {}
    if labels.get(MANAGED_BY_LABEL) != controller or not labels.get(SERVICE_NAME_LABEL):
        return []
    return [f"{meta.get('namespace')}/{labels[SERVICE_NAME_LABEL]}"]


def _service_of(slice_: Obj) -> list[str]:
    return managed_service_keys(slice_, CONTROLLER_NAME)


class EndpointSliceController(ServicePodsController):
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        workers: int = 5,
        max_endpoints_per_slice: int = 100,
    ) -> None:
        super().__init__(client, factory, clock=clock, workers=workers)
        self.max_endpoints_per_slice = max_endpoints_per_slice
        self.slices = factory.informer(ENDPOINTSLICES)
        self.slices.indexer.add_indexers({BY_SERVICE: _service_of})
        self.nodes = factory.informer(NODES)
        self.writer = SliceWriter(client)
        enqueue_related(self.slices, self.queue, _service_of)
        self.nodes.add_handler(on_update=self._node_updated)

    def extra_informers(self) -> list[Informer]:
        return [self.slices, self.nodes]

    def _node_updated(self, old: Obj, new: Obj) -> None:
        zone = ((old["metadata"].get("labels") or {}).get(ZONE_LABEL),)
        if zone != ((new["metadata"].get("labels") or {}).get(ZONE_LABEL),):
            for pod in self.pods.indexer.by_index(BY_NODE, new["metadata"]["name"]):
                self._enqueue_services_of(pod)

    async def sync(self, key: str) -> None:
        """Reconciles the EndpointSlices of Service `key` (module docstring)."""
        namespace, name = split_key(key)
        service = self.services.indexer.get(key)
        if service is None:
            self.writer.forget(key)
            return
        selector = service_selector(service)
        if selector is None:
            return
        existing = self.slices.indexer.by_index(BY_SERVICE, key)
        if self.writer.stale(key, existing):
            return
        if (service.get("spec") or {}).get("type") == "ExternalName":
            for slice_ in existing:
                await self.writer.delete(key, slice_)
            return
        pods = selected_pods(selector, self.pods.indexer.by_index(BY_NAMESPACE, namespace))
        pods.sort(key=lambda p: p["metadata"]["name"])
        desired: dict[PortKey, tuple[list[Obj], list[Obj]]] = {}
        for pod in pods:
            endpoint = self._endpoint(service, pod)
            if endpoint is None:
                continue
            ports = [{**p, "name": p.get("name", "")} for p in endpoint_ports(service, pod)]
            if not ports and (service.get("spec") or {}).get("ports"):
                continue
            desired.setdefault(port_key(ports), (ports, []))[1].append(endpoint)
        writes = plan(existing, desired, ADDRESS_TYPE, self.max_endpoints_per_slice)
        annotations: dict[str, str] = {}
        if changed := trigger_time(service, pods):
            annotations[TRIGGER_TIME_ANNOTATION] = changed
        template: Obj = {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{name[:55]}-",
                "namespace": namespace,
                "labels": _labels(service),
                "annotations": annotations,
                "ownerReferences": [owner_reference(service)],
            },
            "addressType": ADDRESS_TYPE,
        }
        await self.writer.apply(key, writes, template)

    def _endpoint(self, service: Obj, pod: Obj) -> Obj | None:
        ip = pod_ip(pod)
        if ip is None or not should_be_in_endpoints(pod, True):
            return None
        serving = is_pod_ready(pod)
        terminating = bool(pod["metadata"].get("deletionTimestamp"))
        publish = bool((service.get("spec") or {}).get("publishNotReadyAddresses"))
        endpoint: Obj = {
            "addresses": [ip],
            "conditions": {
                "ready": publish or (serving and not terminating),
                "serving": serving,
                "terminating": terminating,
            },
            "targetRef": target_ref(pod),
        }
        node_name = (pod.get("spec") or {}).get("nodeName")
        if node_name:
            endpoint["nodeName"] = node_name
            node = self.nodes.indexer.get(node_name) or {}
            zone = ((node.get("metadata") or {}).get("labels") or {}).get(ZONE_LABEL)
            if zone:
                endpoint["zone"] = zone
                if (service.get("spec") or {}).get("trafficDistribution") == "PreferClose":
                    endpoint["hints"] = {"forZones": [{"name": zone}]}
        if should_set_hostname(pod, service):
            endpoint["hostname"] = pod["spec"]["hostname"]
        return endpoint


def _labels(service: Obj) -> dict[str, str]:
    """The Service's labels (but the reserved ones) plus the slice's own."""
    labels = {
        k: v
        for k, v in (service["metadata"].get("labels") or {}).items()
        if k not in (SERVICE_NAME_LABEL, MANAGED_BY_LABEL, HEADLESS_LABEL)
    }
    labels[SERVICE_NAME_LABEL] = service["metadata"]["name"]
    labels[MANAGED_BY_LABEL] = CONTROLLER_NAME
    if is_headless(service):
        labels[HEADLESS_LABEL] = ""
    return labels
