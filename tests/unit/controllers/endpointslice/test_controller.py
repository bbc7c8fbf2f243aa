"""EndpointSliceController.sync and `reconcile.plan` on seeded caches."""

from __future__ import annotations

from typing import Any

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.endpointslice import EndpointSliceController
from kybernetes.controllers.endpointslice.reconcile import plan, port_key

from ..endpoints.objects import service, serving_pod
from ..fakes import FakeClient

Obj = dict[str, Any]

PORTS = [{"name": "http", "port": 8080, "protocol": "TCP"}]


class Harness:
    def __init__(self, *objects: Obj) -> None:
        self.client = FakeClient()
        clock = FakeClock()
        factory = SharedInformerFactory(self.client, clock=clock)  # type: ignore[arg-type]
        self.ctl = EndpointSliceController(self.client, factory, clock=clock)  # type: ignore[arg-type]
        for obj in objects:
            self.add(obj)

    def add(self, obj: Obj) -> None:
        informers = {
            "Service": self.ctl.services,
            "Pod": self.ctl.pods,
            "Node": self.ctl.nodes,
            "EndpointSlice": self.ctl.slices,
        }
        informers[obj["kind"]].indexer.add(obj)

    def observe_writes(self) -> None:
        """What the slice informer would show after the writes, then forget them."""
        for verb, plural, obj in self.client.writes:
            if plural != "endpointslices":
                continue
            if verb == "delete":
                self.ctl.slices.indexer.delete(f"ns/{obj}")
            else:
                self.add(obj)
        self.client.writes.clear()

    def slices(self) -> list[Obj]:
        return sorted(self.ctl.slices.indexer.list(), key=lambda s: s["metadata"]["name"])


def node(name: str, zone: str) -> Obj:
    labels = {"topology.kubernetes.io/zone": zone}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels}}


async def test_a_slice_with_conditions_node_zone_labels_and_owner() -> None:
    h = Harness(
        service(),
        node("n1", "zone-a"),
        serving_pod("a", "10.42.0.5"),
        serving_pod("b", "10.42.0.6", ready=False),
        serving_pod("c", "10.42.0.7", deleting=True),
        serving_pod("v6", "fd00::1"),
    )
    await h.ctl.sync("ns/web")
    (created,) = h.client.of("create", "endpointslices")
    meta = created["metadata"]
    assert meta["generateName"] == "web-"
    assert meta["labels"] == {
        "team": "a",
        "kubernetes.io/service-name": "web",
        "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io",
    }
    assert meta["annotations"] == {
        "endpoints.kubernetes.io/last-change-trigger-time": "2025-01-01T00:00:00Z"
    }
    (owner,) = meta["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "Service",
        "web",
        "svc-web",
        True,
    )
    assert created["addressType"] == "IPv4"
    assert created["ports"] == PORTS
    conditions = {e["targetRef"]["name"]: e["conditions"] for e in created["endpoints"]}
    assert conditions == {
        "a": {"ready": True, "serving": True, "terminating": False},
        "b": {"ready": False, "serving": False, "terminating": False},
        "c": {"ready": False, "serving": True, "terminating": True},
    }
    first = created["endpoints"][0]
    assert (first["addresses"], first["nodeName"], first["zone"]) == (["10.42.0.5"], "n1", "zone-a")


async def test_at_most_a_hundred_endpoints_per_slice_and_minimal_rewrites() -> None:
    pods = [serving_pod(f"p{i:03}", f"10.42.{i // 200}.{i % 200 + 1}") for i in range(250)]
    h = Harness(service(), *pods)
    await h.ctl.sync("ns/web")
    assert sorted(len(s["endpoints"]) for s in h.client.of("create", "endpointslices")) == [
        50,
        100,
        100,
    ]
    h.observe_writes()
    await h.ctl.sync("ns/web")
    assert h.client.writes == []
    h.ctl.pods.indexer.delete("ns/p000")
    h.add(serving_pod("p999", "10.42.9.9"))
    await h.ctl.sync("ns/web")
    (updated,) = h.client.of("update", "endpointslices")
    names = [e["targetRef"]["name"] for e in updated["endpoints"]]
    assert "p000" not in names and "p999" in names
    assert len(h.client.writes) == 1


async def test_pods_with_different_port_numbers_get_different_slices() -> None:
    h = Harness(service(), serving_pod("a", "10.42.0.5"), serving_pod("b", "10.42.0.6", port=9090))
    await h.ctl.sync("ns/web")
    ports = sorted(s["ports"][0]["port"] for s in h.client.of("create", "endpointslices"))
    assert ports == [8080, 9090]


async def test_no_endpoints_leaves_one_placeholder_slice() -> None:
    h = Harness(service(), serving_pod("a", "10.42.0.5"))
    await h.ctl.sync("ns/web")
    h.observe_writes()
    h.ctl.pods.indexer.delete("ns/a")
    await h.ctl.sync("ns/web")
    (rewritten,) = h.client.of("update", "endpointslices")  # reused, not replaced
    assert (rewritten["endpoints"], rewritten["ports"]) == ([], [])
    assert h.client.of("create", "endpointslices") == []
    h.observe_writes()
    await h.ctl.sync("ns/web")
    assert h.client.writes == []


async def test_a_stale_cache_never_duplicates_slices() -> None:
    h = Harness(service(), serving_pod("a", "10.42.0.5"))
    await h.ctl.sync("ns/web")
    await h.ctl.sync("ns/web")
    assert len(h.client.of("create", "endpointslices")) == 1
    h.observe_writes()
    await h.ctl.sync("ns/web")
    assert h.client.writes == []
    assert h.ctl.writer.written == {}


async def test_label_changes_update_slices_and_external_names_lose_theirs() -> None:
    h = Harness(service(), serving_pod("a", "10.42.0.5"))
    await h.ctl.sync("ns/web")
    h.observe_writes()
    relabelled = service()
    relabelled["metadata"]["labels"] = {"team": "b"}
    h.add(relabelled)
    await h.ctl.sync("ns/web")
    (updated,) = h.client.of("update", "endpointslices")
    assert updated["metadata"]["labels"]["team"] == "b"
    h.observe_writes()
    h.add(service(type="ExternalName"))
    await h.ctl.sync("ns/web")
    assert len(h.client.of("delete", "endpointslices")) == 1


def endpoint(name: str) -> Obj:
    return {"addresses": [f"10.0.0.{len(name)}{name[-1]}"], "targetRef": {"name": name}}


def existing(name: str, endpoints: list[Obj]) -> Obj:
    return {
        "metadata": {"name": name},
        "addressType": "IPv4",
        "ports": PORTS,
        "endpoints": endpoints,
    }


def test_plan_fills_updated_slices_first_and_merges_a_partial_chunk() -> None:
    a, b, c, d = (endpoint(n) for n in "abcd")
    slices = [existing("s1", [a, b]), existing("s2", [c])]
    wanted = {port_key(PORTS): (PORTS, [a, c, d])}
    result = plan(slices, wanted, "IPv4", 2)
    assert [(s["metadata"]["name"], eps) for s, _, eps in result.update] == [("s1", [a, d])]
    assert result.keep == [slices[1]] and result.create == [] and result.delete == []
    result = plan([existing("s2", [c])], {port_key(PORTS): (PORTS, [c, d])}, "IPv4", 3)
    assert [(s["metadata"]["name"], eps) for s, _, eps in result.update] == [("s2", [c, d])]
    assert result.create == []


def test_plan_deletes_slices_of_stale_port_sets_and_address_types() -> None:
    a = endpoint("a")
    other_ports = {**existing("s1", [a]), "ports": [{"name": "x", "port": 1, "protocol": "TCP"}]}
    v6 = {**existing("s2", [a]), "addressType": "IPv6"}
    result = plan([other_ports, v6], {port_key(PORTS): (PORTS, [a])}, "IPv4", 100)
    assert result.delete == [v6]
    assert result.create == []
    assert result.update == [(other_ports, PORTS, [a])]  # rewritten rather than replaced


async def test_prefer_close_traffic_distribution_hints_each_endpoints_zone() -> None:
    h = Harness(
        service(trafficDistribution="PreferClose"),
        node("n1", "zone-a"),
        serving_pod("a", "10.42.0.5"),
        serving_pod("b", "10.42.0.6", node="unzoned"),
    )
    await h.ctl.sync("ns/web")
    (created,) = h.client.of("create", "endpointslices")
    hints = {e["targetRef"]["name"]: e.get("hints") for e in created["endpoints"]}
    assert hints == {"a": {"forZones": [{"name": "zone-a"}]}, "b": None}
