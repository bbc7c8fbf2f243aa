"""`EndpointSliceMirroringController`: EndpointSlices mirroring the v1 Endpoints of
Services without a selector (whose Endpoints somebody writes by hand) — Kubernetes'
`pkg/controller/endpointslicemirroring`, so that consumers of EndpointSlices (the
proxy, DNS) see those endpoints too.

Keys are `namespace/name` of a Service and its Endpoints. `sync(key)` mirrors the
Endpoints when the Service exists without a selector and the Endpoints is neither
labelled `endpointslice.kubernetes.io/skip-mirror: "true"` nor carries a leader
election record (annotation `control-plane.alpha.kubernetes.io/leader`); otherwise
it deletes the slices it mirrored. Every subset's addresses (ready) and
notReadyAddresses (not ready) become endpoints (`addresses`, `conditions.ready`,
`hostname`, `nodeName`, `targetRef`), at most `max_endpoints_per_subset` (1000) per
subset, grouped by address type (IPv4 / IPv6) and port set into slices of at most
that many endpoints, planned by `endpointslice.reconcile.plan` (no placeholder) and
written by its `SliceWriter`. Slices carry the Endpoints' labels and annotations
(but the trigger time and kubectl's last-applied configuration), the labels
`kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by:
endpointslicemirroring-controller.k8s.io`, and a controlling ownerReference to the
Endpoints.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any, Final

from kybernetes.client import APIClient, Clock, SharedInformerFactory, WorkQueue
from kybernetes.client.resource import ENDPOINTS, ENDPOINTSLICES, SERVICES

from ..base import Workers, enqueue_keys, enqueue_related, run_queues
from ..endpoints.controller import LEADER_ANNOTATION
from ..endpoints.podutil import TRIGGER_TIME_ANNOTATION
from ..endpointslice.controller import (
    MANAGED_BY_LABEL,
    SERVICE_NAME_LABEL,
    managed_service_keys,
)
from ..endpointslice.reconcile import PortKey, plan, port_key
from ..endpointslice.writer import SliceWriter
from ..replicaset.pods import owner_reference

log = logging.getLogger(__name__)

Obj = dict[str, Any]

CONTROLLER_NAME: Final = "endpointslicemirroring-controller.k8s.io"
SKIP_MIRROR_LABEL: Final = "endpointslice.kubernetes.io/skip-mirror"
LAST_APPLIED_ANNOTATION: Final = "kubectl.kubernetes.io/last-applied-configuration"
BY_MIRRORED = "by_mirrored_endpoints"
_ADDRESS_TYPES: Final = {4: "IPv4", 6: "IPv6"}


def _mirrored_of(slice_: Obj) -> list[str]:
    return managed_service_keys(slice_, CONTROLLER_NAME)


class EndpointSliceMirroringController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        workers: int = 5,
        max_endpoints_per_subset: int = 1000,
    ) -> None:
        self.workers = workers
        self.max_endpoints_per_subset = max_endpoints_per_subset
        self.writer = SliceWriter(client)
        self.services = factory.informer(SERVICES)
        self.endpoints = factory.informer(ENDPOINTS)
        self.slices = factory.informer(ENDPOINTSLICES)
        self.slices.indexer.add_indexers({BY_MIRRORED: _mirrored_of})
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.services, self.queue)
        enqueue_keys(self.endpoints, self.queue)
        enqueue_related(self.slices, self.queue, _mirrored_of)

    async def run(self) -> None:
        informers = [self.services, self.endpoints, self.slices]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    def _should_mirror(self, service: Obj | None, endpoints: Obj | None) -> bool:
        if service is None or endpoints is None or (service.get("spec") or {}).get("selector"):
            return False
        meta = endpoints["metadata"]
        if (meta.get("labels") or {}).get(SKIP_MIRROR_LABEL) == "true":
            return False
        return LEADER_ANNOTATION not in (meta.get("annotations") or {})

    async def sync(self, key: str) -> None:
        """Mirrors (or stops mirroring) the Endpoints `key` (module docstring)."""
        existing = self.slices.indexer.by_index(BY_MIRRORED, key)
        if self.writer.stale(key, existing):
            return
        endpoints = self.endpoints.indexer.get(key)
        if endpoints is None or not self._should_mirror(self.services.indexer.get(key), endpoints):
            for slice_ in existing:
                await self.writer.delete(key, slice_)
            if endpoints is None:
                self.writer.forget(key)
            return
        desired = self._desired(endpoints, key)
        for slice_ in existing:
            if slice_.get("addressType") not in _ADDRESS_TYPES.values():
                await self.writer.delete(key, slice_)
        for address_type in _ADDRESS_TYPES.values():
            writes = plan(
                [s for s in existing if s.get("addressType") == address_type],
                desired.get(address_type, {}),
                address_type,
                self.max_endpoints_per_subset,
                placeholder=False,
            )
            await self.writer.apply(key, writes, self._template(endpoints, address_type))

    def _desired(
        self, endpoints: Obj, key: str
    ) -> dict[str, dict[PortKey, tuple[list[Obj], list[Obj]]]]:
        """{address type: {port key: (ports, endpoints)}} of the Endpoints' subsets."""
        desired: dict[str, dict[PortKey, tuple[list[Obj], list[Obj]]]] = {}
        for subset in endpoints.get("subsets") or []:
            ports = [
                {
                    "name": p.get("name") or "",
                    "port": p.get("port"),
                    "protocol": p.get("protocol") or "TCP",
                    **({"appProtocol": p["appProtocol"]} if p.get("appProtocol") else {}),
                }
                for p in subset.get("ports") or []
            ]
            addresses = [(a, True) for a in subset.get("addresses") or []]
            addresses += [(a, False) for a in subset.get("notReadyAddresses") or []]
            if len(addresses) > self.max_endpoints_per_subset:
                log.warning("endpoints %s: mirroring only %d addresses of a subset", key,
                            self.max_endpoints_per_subset)  # fmt: skip
                addresses = addresses[: self.max_endpoints_per_subset]
            for address, ready in addresses:
                try:
                    ip = ipaddress.ip_address(address.get("ip") or "")
                except ValueError:
                    continue
                endpoint: Obj = {"addresses": [str(ip)], "conditions": {"ready": ready}}
                for field in ("hostname", "nodeName", "targetRef"):
                    if address.get(field):
                        endpoint[field] = address[field]
                by_ports = desired.setdefault(_ADDRESS_TYPES[ip.version], {})
                by_ports.setdefault(port_key(ports), (ports, []))[1].append(endpoint)
        return desired

    def _template(self, endpoints: Obj, address_type: str) -> Obj:
        meta = endpoints["metadata"]
        labels = {
            **(meta.get("labels") or {}),
            SERVICE_NAME_LABEL: meta["name"],
            MANAGED_BY_LABEL: CONTROLLER_NAME,
        }
        annotations = {
            k: v
            for k, v in (meta.get("annotations") or {}).items()
            if k not in (TRIGGER_TIME_ANNOTATION, LAST_APPLIED_ANNOTATION)
        }
        return {
            "apiVersion": "discovery.k8s.io/v1",
            "kind": "EndpointSlice",
            "metadata": {
                "generateName": f"{meta['name'][:55]}-",
                "namespace": meta["namespace"],
                "labels": labels,
                "annotations": annotations,
                "ownerReferences": [
                    owner_reference({"apiVersion": "v1", "kind": "Endpoints", **endpoints})
                ],
            },
            "addressType": address_type,
        }
