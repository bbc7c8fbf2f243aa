"""EndpointSliceMirroringController.sync on seeded caches and a recording client."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.endpointslicemirroring import EndpointSliceMirroringController

from ..endpoints.objects import service
from ..fakes import FakeClient

Obj = dict[str, Any]


def endpoints(subsets: list[Obj], **meta: Any) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "web",
            "namespace": "ns",
            "uid": "ep-uid",
            "labels": {"team": "a"},
            "annotations": {
                "note": "kept",
                "endpoints.kubernetes.io/last-change-trigger-time": "2025-01-01T00:00:00Z",
            },
            **meta,
        },
        "subsets": subsets,
    }


SUBSET = {
    "addresses": [{"ip": "10.0.0.1", "nodeName": "n1"}, {"ip": "fd00::1"}],
    "notReadyAddresses": [{"ip": "10.0.0.2", "hostname": "two"}],
    "ports": [{"name": "http", "port": 80, "protocol": "TCP"}],
}


class Harness:
    def __init__(self, *objects: Obj) -> None:
        self.client = FakeClient()
        clock = FakeClock()
        factory = SharedInformerFactory(self.client, clock=clock)  # type: ignore[arg-type]
        self.ctl = EndpointSliceMirroringController(self.client, factory, clock=clock)  # type: ignore[arg-type]
        for obj in objects:
            self.add(obj)

    def add(self, obj: Obj) -> None:
        informers = {
            "Service": self.ctl.services,
            "Endpoints": self.ctl.endpoints,
            "EndpointSlice": self.ctl.slices,
        }
        informers[obj["kind"]].indexer.add(obj)


async def test_endpoints_of_a_selectorless_service_are_mirrored_by_address_type() -> None:
    h = Harness(service(selector={}), endpoints([SUBSET]))
    await h.ctl.sync("ns/web")
    created = {s["addressType"]: s for s in h.client.of("create", "endpointslices")}
    assert set(created) == {"IPv4", "IPv6"}
    v4 = created["IPv4"]
    assert v4["metadata"]["labels"] == {
        "team": "a",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslicemirroring-controller.k8s.io",
    }
    assert v4["metadata"]["annotations"] == {"note": "kept"}
    (owner,) = v4["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"]) == ("Endpoints", "web", "ep-uid")
    assert v4["ports"] == [{"name": "http", "port": 80, "protocol": "TCP"}]
    assert v4["endpoints"] == [
        {"addresses": ["10.0.0.1"], "conditions": {"ready": True}, "nodeName": "n1"},
        {"addresses": ["10.0.0.2"], "conditions": {"ready": False}, "hostname": "two"},
    ]
    assert created["IPv6"]["endpoints"] == [
        {"addresses": ["fd00::1"], "conditions": {"ready": True}}
    ]


async def test_nothing_is_mirrored_for_selectors_skip_labels_or_leader_records() -> None:
    for objects in (
        (service(), endpoints([SUBSET])),
        (
            service(selector={}),
            endpoints([SUBSET], labels={"endpointslice.kubernetes.io/skip-mirror": "true"}),
        ),
        (
            service(selector={}),
            endpoints([SUBSET], annotations={"control-plane.alpha.kubernetes.io/leader": "{}"}),
        ),
        (endpoints([SUBSET]),),
    ):
        h = Harness(*objects)
        await h.ctl.sync("ns/web")
        assert h.client.writes == []


async def test_mirrored_slices_go_when_mirroring_stops_and_no_placeholder_is_kept() -> None:
    h = Harness(service(selector={}), endpoints([SUBSET]))
    await h.ctl.sync("ns/web")
    for created in h.client.of("create", "endpointslices"):
        h.add(created)
    h.client.writes.clear()
    await h.ctl.sync("ns/web")
    assert h.client.writes == []
    h.add(endpoints([]))
    await h.ctl.sync("ns/web")
    assert len(h.client.of("delete", "endpointslices")) == 2
    assert h.client.of("create", "endpointslices") == []


async def test_a_subset_is_mirrored_up_to_the_limit() -> None:
    many = {"addresses": [{"ip": f"10.0.{i // 250}.{i % 250}"} for i in range(1200)]}
    h = Harness(service(selector={}), endpoints([many]))
    await h.ctl.sync("ns/web")
    (created,) = h.client.of("create", "endpointslices")
    assert len(created["endpoints"]) == 1000
