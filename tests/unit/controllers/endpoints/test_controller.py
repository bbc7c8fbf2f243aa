"""EndpointsController.sync on seeded caches and a recording client."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.endpoints import EndpointsController

from ..fakes import FakeClient
from .objects import service, serving_pod

Obj = dict[str, Any]


class Harness:
    def __init__(self, *objects: Obj) -> None:
        self.client = FakeClient()
        clock = FakeClock()
        factory = SharedInformerFactory(self.client, clock=clock)  # type: ignore[arg-type]
        self.ctl = EndpointsController(self.client, factory, clock=clock)  # type: ignore[arg-type]
        for obj in objects:
            informer = {"Service": self.ctl.services, "Pod": self.ctl.pods}[obj["kind"]]
            informer.indexer.add(obj)

    def written(self) -> Obj:
        (endpoints,) = self.client.of("create", "endpoints") + self.client.of("update", "endpoints")
        return endpoints  # type: ignore[no-any-return]


async def test_ready_and_not_ready_pods_with_ports_resolved_per_pod() -> None:
    h = Harness(
        service(),
        serving_pod("a", "10.42.0.5"),
        serving_pod("b", "10.42.0.6", ready=False),
        serving_pod("c", "10.42.0.7", port=9090),
        serving_pod("no-port", "10.42.0.8", port=None),
        serving_pod("no-ip", None),
        serving_pod("leaving", "10.42.0.9", deleting=True),
        serving_pod("done", "10.42.0.10", phase="Succeeded"),
        serving_pod("other", "10.42.0.11", labels={"app": "db"}),
    )
    await h.ctl.sync("ns/web")
    endpoints = h.written()
    assert endpoints["metadata"]["labels"] == {"team": "a"}
    annotations = endpoints["metadata"]["annotations"]
    assert annotations["endpoints.kubernetes.io/last-change-trigger-time"] == "2025-01-01T00:00:00Z"
    by_port = {s["ports"][0]["port"]: s for s in endpoints["subsets"]}
    assert set(by_port) == {8080, 9090}
    assert by_port[8080]["ports"] == [{"name": "http", "port": 8080, "protocol": "TCP"}]
    assert [a["ip"] for a in by_port[8080]["addresses"]] == ["10.42.0.5"]
    assert [a["ip"] for a in by_port[8080]["notReadyAddresses"]] == ["10.42.0.6"]
    assert [a["ip"] for a in by_port[9090]["addresses"]] == ["10.42.0.7"]
    address = by_port[8080]["addresses"][0]
    assert address["nodeName"] == "n1"
    assert address["targetRef"] == {"kind": "Pod", "namespace": "ns", "name": "a", "uid": "uid-a"}


async def test_publish_not_ready_addresses_lists_every_pod_as_ready() -> None:
    h = Harness(
        service(publishNotReadyAddresses=True),
        serving_pod("b", "10.42.0.6", ready=False),
        serving_pod("leaving", "10.42.0.9", deleting=True),
    )
    await h.ctl.sync("ns/web")
    (subset,) = h.written()["subsets"]
    assert [a["ip"] for a in subset["addresses"]] == ["10.42.0.6", "10.42.0.9"]
    assert "notReadyAddresses" not in subset


async def test_headless_service_without_ports_and_hostnames() -> None:
    p = serving_pod("a", "10.42.0.5")
    p["spec"].update(hostname="a", subdomain="web")
    h = Harness(service(cluster_ip="None", ports=[]), p)
    await h.ctl.sync("ns/web")
    endpoints = h.written()
    assert endpoints["metadata"]["labels"] == {"team": "a", "service.kubernetes.io/headless": ""}
    (subset,) = endpoints["subsets"]
    assert "ports" not in subset
    assert subset["addresses"][0]["hostname"] == "a"


async def test_services_without_selector_and_external_names_are_left_alone() -> None:
    h = Harness(service(selector={}), service("ext", type="ExternalName"))
    await h.ctl.sync("ns/web")
    await h.ctl.sync("ns/ext")
    assert h.client.writes == []


async def test_unchanged_endpoints_are_not_rewritten_but_changes_are() -> None:
    h = Harness(service(), serving_pod("a", "10.42.0.5"))
    await h.ctl.sync("ns/web")
    created = h.written()
    h.ctl.endpoints.indexer.add(
        {**created, "metadata": {**created["metadata"], "resourceVersion": "7"}}
    )
    h.client.writes.clear()
    await h.ctl.sync("ns/web")
    assert h.client.writes == []
    h.ctl.pods.indexer.add(serving_pod("a", "10.42.0.5", ready=False))
    await h.ctl.sync("ns/web")
    (updated,) = h.client.of("update", "endpoints")
    assert updated["metadata"]["resourceVersion"] == "7"
    assert [a["ip"] for a in updated["subsets"][0]["notReadyAddresses"]] == ["10.42.0.5"]


async def test_endpoints_of_a_deleted_service_are_deleted() -> None:
    h = Harness()
    h.ctl.endpoints.indexer.add(
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "web", "namespace": "ns"}}
    )
    await h.ctl.sync("ns/web")
    assert h.client.of("delete", "endpoints") == ["web"]


async def test_over_capacity_truncates_to_a_thousand_addresses() -> None:
    pods = [serving_pod(f"p{i}", f"10.42.{i // 250}.{i % 250 + 1}") for i in range(1001)]
    h = Harness(service(), *pods)
    await h.ctl.sync("ns/web")
    endpoints = h.written()
    assert sum(len(s["addresses"]) for s in endpoints["subsets"]) == 1000
    assert endpoints["metadata"]["annotations"]["endpoints.kubernetes.io/over-capacity"] == (
        "truncated"
    )


async def test_pod_handlers_enqueue_the_selecting_services_only_on_relevant_changes() -> None:
    h = Harness(service(), service("db", selector={"app": "db"}))
    old = serving_pod("a", "10.42.0.5")
    h.ctl._pod_updated(old, {**old, "metadata": {**old["metadata"], "resourceVersion": "9"}})
    assert len(h.ctl.queue) == 0
    moved = serving_pod("a", "10.42.0.5", labels={"app": "db"})
    h.ctl._pod_updated(old, moved)
    assert {await h.ctl.queue.get(), await h.ctl.queue.get()} == {"ns/web", "ns/db"}


async def test_hand_written_endpoints_without_a_service_are_left_alone_until_a_restart() -> None:
    h = Harness()
    orphan = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "x", "namespace": "ns"}}
    leader = {
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "lock",
            "namespace": "ns",
            "annotations": {"control-plane.alpha.kubernetes.io/leader": "{}"},
        },
    }
    for obj in (orphan, leader):
        h.ctl.endpoints.indexer.add(obj)
        h.ctl.endpoints._notify_add(obj)
        h.ctl.endpoints._notify_update(obj, obj)
    assert len(h.ctl.queue) == 0
    (key,) = h.ctl.startup_keys()
    await h.ctl.sync(key)
    assert h.client.of("delete", "endpoints") == ["x"]
