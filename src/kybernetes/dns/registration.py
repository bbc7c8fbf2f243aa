"""Publishes this DNS server as the cluster's DNS Service (`kube-system/kube-dns`).

In Kubernetes CoreDNS runs as pods behind the `kube-dns` Service; here `kyb dns` runs
as a node process, so it publishes itself: `register(client, ...)` server-side-applies
(field manager `kyb-dns`, forced) a selector-less Service with the fixed ClusterIP the
kubelets write into pods' resolv.conf (10.43.0.10 by default) and ports `dns` 53/UDP,
`dns-tcp` 53/TCP and `metrics` 9153/TCP, plus Endpoints (labelled
`endpointslice.kubernetes.io/skip-mirror`) and an EndpointSlice (`kube-dns`) naming
`address:port`. Applying the same configuration again changes nothing, so callers
simply repeat it (`keep_registered`) to repair edits or deletions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from kybernetes.client import APIClient, APIError, TransportError
from kybernetes.client.resource import ENDPOINTS, ENDPOINTSLICES, SERVICES

log = logging.getLogger(__name__)

FIELD_MANAGER: Final = "kyb-dns"
NAMESPACE: Final = "kube-system"
NAME: Final = "kube-dns"
DEFAULT_SERVICE_IP: Final = "10.43.0.10"
LABELS: Final = {"k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS"}


def _ports(port: int, metrics_port: int) -> list[tuple[str, int, str]]:
    ports = [("dns", port, "UDP"), ("dns-tcp", port, "TCP")]
    if metrics_port:
        ports.append(("metrics", metrics_port, "TCP"))
    return ports


def manifests(
    service_ip: str, address: str, port: int, metrics_port: int
) -> list[tuple[Any, dict[str, Any]]]:
    """(resource, object) for the Service, its Endpoints and its EndpointSlice."""
    ports = _ports(port, metrics_port)
    metadata = {"name": NAME, "namespace": NAMESPACE, "labels": LABELS}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": service_ip,
            "ports": [
                {"name": n, "port": 53 if n != "metrics" else 9153, "protocol": proto,
                 "targetPort": p}
                for n, p, proto in ports
            ],
        },
    }  # fmt: skip
    endpoints = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            **metadata,
            "labels": {**LABELS, "endpointslice.kubernetes.io/skip-mirror": "true"},
        },
        "subsets": [
            {
                "addresses": [{"ip": address}],
                "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
            }
        ],
    }
    endpoint_slice = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {**metadata, "labels": {**LABELS, "kubernetes.io/service-name": NAME}},
        "addressType": "IPv6" if ":" in address else "IPv4",
        "endpoints": [{"addresses": [address], "conditions": {"ready": True}}],
        "ports": [{"name": n, "port": p, "protocol": proto} for n, p, proto in ports],
    }
    return [(SERVICES, service), (ENDPOINTS, endpoints), (ENDPOINTSLICES, endpoint_slice)]


async def register(
    client: APIClient, *, service_ip: str, address: str, port: int, metrics_port: int = 0
) -> None:
    """Applies the three objects (see the module docstring); APIError propagates."""
    for resource, obj in manifests(service_ip, address, port, metrics_port):
        await client.patch(
            resource,
            NAME,
            obj,
            namespace=NAMESPACE,
            patch_type="apply",
            field_manager=FIELD_MANAGER,
            force=True,
        )


async def keep_registered(
    client: APIClient,
    *,
    service_ip: str,
    address: str,
    port: int,
    metrics_port: int = 0,
    interval: float = 30.0,
) -> None:
    """`register` now and every `interval` seconds until cancelled; errors are logged."""
    while True:
        try:
            await register(
                client, service_ip=service_ip, address=address, port=port, metrics_port=metrics_port
            )
        except (APIError, TransportError) as e:
            log.warning("could not publish the %s/%s Service: %s", NAMESPACE, NAME, e)
        await asyncio.sleep(interval)
