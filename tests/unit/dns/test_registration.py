"""`kyb dns` publishes itself as the kube-system/kube-dns Service."""

from __future__ import annotations

from kybernetes.client import APIClient
from kybernetes.client.resource import ENDPOINTS, ENDPOINTSLICES, SERVICES
from kybernetes.dns.registration import register


async def test_register_is_idempotent_and_follows_the_address(client: APIClient) -> None:
    await register(
        client, service_ip="10.43.0.10", address="192.0.2.7", port=5353, metrics_port=9153
    )
    service = await client.get(SERVICES, "kube-dns", "kube-system")
    assert service["spec"]["clusterIP"] == "10.43.0.10"
    assert [
        (p["name"], p["port"], p["protocol"], p["targetPort"]) for p in service["spec"]["ports"]
    ] == [
        ("dns", 53, "UDP", 5353),
        ("dns-tcp", 53, "TCP", 5353),
        ("metrics", 9153, "TCP", 9153),
    ]
    endpoint_slice = await client.get(ENDPOINTSLICES, "kube-dns", "kube-system")
    assert endpoint_slice["endpoints"][0]["addresses"] == ["192.0.2.7"]
    version = endpoint_slice["metadata"]["resourceVersion"]
    await register(
        client, service_ip="10.43.0.10", address="192.0.2.7", port=5353, metrics_port=9153
    )
    again = await client.get(ENDPOINTSLICES, "kube-dns", "kube-system")
    assert again["metadata"]["resourceVersion"] == version
    await register(
        client, service_ip="10.43.0.10", address="192.0.2.8", port=5353, metrics_port=9153
    )
    endpoints = await client.get(ENDPOINTS, "kube-dns", "kube-system")
    assert endpoints["subsets"][0]["addresses"] == [{"ip": "192.0.2.8"}]
