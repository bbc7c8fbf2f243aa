"""The EndpointSlice controller against a real in-process API server: the placeholder
slice of a Service without pods, then the slices of its ready pods (all of them
passing the API's validation)."""

from __future__ import annotations

from typing import Any

from kybernetes.client import APIClient, Clock, EventRecorder, SharedInformerFactory
from kybernetes.client.resource import PODS, SERVICES
from kybernetes.controllers.endpointslice import EndpointSliceController

from ..cluster import running, wait_for

Obj = dict[str, Any]


def make(
    client: APIClient, factory: SharedInformerFactory, _: EventRecorder, *, clock: Clock
) -> EndpointSliceController:
    return EndpointSliceController(client, factory, clock=clock)


async def test_placeholder_then_endpoints(client: APIClient, namespace: str) -> None:
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 8080}]},
    }
    async with running(client, make) as (ctl, _):
        await client.create(SERVICES, service)
        (placeholder,) = await wait_for(ctl.slices, lambda slices: len(slices) == 1)
        assert (placeholder.get("endpoints") or [], placeholder.get("ports") or []) == ([], [])
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "web-1", "namespace": namespace, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "busybox"}]},
        }
        created = await client.create(PODS, pod)
        stamp = "2025-01-01T00:00:00Z"
        status = {
            "phase": "Running",
            "podIP": "10.42.0.9",
            "podIPs": [{"ip": "10.42.0.9"}],
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": stamp}],
        }
        await client.update_status(PODS, {**created, "status": status})

        def serving(slices: list[Obj]) -> bool:
            return len(slices) == 1 and bool(slices[0].get("endpoints"))

        (slice_,) = await wait_for(ctl.slices, serving)
        (endpoint,) = slice_["endpoints"]
        assert endpoint["addresses"] == ["10.42.0.9"]
        assert endpoint["conditions"] == {"ready": True, "serving": True, "terminating": False}
        assert slice_["ports"] == [{"name": "", "port": 8080, "protocol": "TCP"}]
        assert slice_["metadata"]["name"] == placeholder["metadata"]["name"]  # reused
