"""The `kubernetes` Service: how pods reach the API server (kube-apiserver's bootstrap
controller and endpoint reconciler).

`reconcile_kubernetes_service(api, address, port)` makes the cluster hold, in `default`:
- Service `kubernetes`: type ClusterIP, clusterIP the service CIDR's first address
  (10.43.0.1 by default), port `https` 443 -> `port`, labels `component: apiserver`
  and `provider: kubernetes`;
- Endpoints `kubernetes` with `address:port` (labelled
  `endpointslice.kubernetes.io/skip-mirror: "true"`, so the EndpointSlice mirroring
  controller leaves it to us, as Kubernetes does);
- EndpointSlice `kubernetes` (label `kubernetes.io/service-name: kubernetes`).
Each is created when missing and rewritten only when its spec-like part differs, so
the call is idempotent and cheap; `keep_kubernetes_service` repeats it every
`interval` seconds (someone may delete or edit them) until cancelled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from typing import Any, Final

from kybernetes.store import StoreError

from .decoding import decode
from .rest import API
from .status import StatusError

log = logging.getLogger(__name__)

Object = dict[str, Any]
NAME: Final = "kubernetes"
NAMESPACE: Final = "default"
RECONCILE_INTERVAL: Final = 10.0


def _service(cluster_ip: str, port: int) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": NAME,
            "labels": {"component": "apiserver", "provider": "kubernetes"},
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": cluster_ip,
            "sessionAffinity": "None",
            "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}],
        },
    }


def _endpoints(address: str, port: int) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": NAME,
            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
            }
        ],
    }


def _endpoint_slice(address: str, port: int) -> Object:
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {"name": NAME, "labels": {"kubernetes.io/service-name": NAME}},
        "addressType": "IPv6" if ":" in address else "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": "https", "port": port, "protocol": "TCP"}],
    }


async def _ensure(
    api: API, group: str, plural: str, wanted: Object, fields: tuple[str, ...]
) -> None:
    registry = api.registry_for(group, "v1", plural)
    decode(registry, wanted, "Strict")
    current = registry.cache.get(registry.key(NAMESPACE, NAME))
    if current is None:
        try:
            await registry.create(NAMESPACE, wanted)
        except StatusError as e:
            if e.code != 409:
                raise
        return
    obj = current.obj
    labels = (obj.get("metadata") or {}).get("labels") or {}
    same_labels = all(labels.get(k) == v for k, v in wanted["metadata"]["labels"].items())
    if same_labels and all(_covers(obj.get(f), wanted.get(f)) for f in fields):
        return

    def mutate(new: Object) -> Object:
        new["metadata"].setdefault("labels", {}).update(wanted["metadata"]["labels"])
        for field in fields:
            if field == "spec":
                new["spec"] = {**(new.get("spec") or {}), **wanted["spec"]}
            else:
                new[field] = wanted[field]
        return new

    await registry.update(NAMESPACE, NAME, mutate)


def _covers(current: Any, wanted: Any) -> bool:
    """Whether `current` has everything `wanted` says (defaults may add more)."""
    if isinstance(wanted, dict):
        return isinstance(current, dict) and all(
            _covers(current.get(k), v) for k, v in wanted.items()
        )
    if isinstance(wanted, list):
        return (
            isinstance(current, list)
            and len(current) == len(wanted)
            and all(_covers(c, w) for c, w in zip(current, wanted, strict=True))
        )
    return bool(current == wanted)


async def reconcile_kubernetes_service(api: API, address: str, port: int) -> None:
    """See the module docstring."""
    cluster_ip = api.allocator.kubernetes_service_ip
    await _ensure(api, "", "services", _service(cluster_ip, port), ("spec",))
    await _ensure(api, "", "endpoints", _endpoints(address, port), ("subsets",))
    slice_ = _endpoint_slice(address, port)
    await _ensure(
        api, "discovery.k8s.io", "endpointslices", slice_, ("addressType", "endpoints", "ports")
    )


async def keep_kubernetes_service(
    api: API, address: str, port: int, interval: float = RECONCILE_INTERVAL
) -> None:
    """Reconciles every `interval` seconds until cancelled; failures are logged. A
    loopback `address` cannot be an endpoint (Kubernetes forbids it): then the Service
    is not published at all (one log line)."""
    if ipaddress.ip_address(address).is_loopback:
        log.info("not publishing the kubernetes Service: %s is a loopback address", address)
        return
    while True:
        try:
            await reconcile_kubernetes_service(api, address, port)
        except (StatusError, StoreError) as e:
            log.warning("could not reconcile the kubernetes service: %s", e)
        await asyncio.sleep(interval)
