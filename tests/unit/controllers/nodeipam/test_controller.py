"""NodeIpamController and its CIDRSet: allocation, restart, release, exhaustion."""

from __future__ import annotations

from typing import Any

import pytest

from kybernetes.client import FakeClock, SharedInformerFactory
from kybernetes.controllers.nodeipam import CIDRExhausted, CIDRSet, NodeIpamController

from ..fakes import FakeClient, FakeRecorder, error

Obj = dict[str, Any]


def node(name: str, cidr: str | None = None) -> Obj:
    spec = {"podCIDR": cidr, "podCIDRs": [cidr]} if cidr else {}
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": spec}


def make(*nodes: Obj, **kwargs: Any) -> tuple[NodeIpamController, FakeClient, FakeRecorder]:
    client, recorder, clock = FakeClient(), FakeRecorder(), FakeClock()
    factory = SharedInformerFactory(client, clock=clock)  # type: ignore[arg-type]
    ctl = NodeIpamController(client, factory, recorder, clock=clock, **kwargs)  # type: ignore[arg-type]
    for n in nodes:
        ctl.nodes.indexer.add(n)
    ctl.occupy_existing()
    return ctl, client, recorder


def test_cidr_set_hands_out_subnets_in_order_and_rotates_past_released_ones() -> None:
    cidrs = CIDRSet("10.42.0.0/16", 24)
    assert cidrs.count == 256
    assert [cidrs.allocate_next() for _ in range(3)] == [
        "10.42.0.0/24",
        "10.42.1.0/24",
        "10.42.2.0/24",
    ]
    cidrs.release("10.42.0.0/24")
    assert cidrs.allocate_next() == "10.42.3.0/24"
    with pytest.raises(ValueError):
        cidrs.occupy("10.43.0.0/24")
    with pytest.raises(ValueError):
        cidrs.occupy("10.42.0.0/25")
    with pytest.raises(ValueError):
        CIDRSet("10.42.0.0/16", 8)


def test_cidr_set_exhaustion() -> None:
    cidrs = CIDRSet("10.0.0.0/29", 30)
    cidrs.allocate_next()
    cidrs.allocate_next()
    with pytest.raises(CIDRExhausted):
        cidrs.allocate_next()


async def test_nodes_get_the_next_free_cidr_after_existing_allocations() -> None:
    ctl, client, _ = make(node("old", "10.42.0.0/24"), node("new"))
    await ctl.sync("new")
    await ctl.sync("old")
    assert client.of("patch", "nodes") == [
        ("new", {"spec": {"podCIDR": "10.42.1.0/24", "podCIDRs": ["10.42.1.0/24"]}})
    ]


async def test_a_deleted_nodes_cidr_is_released() -> None:
    ctl, _, _ = make(node("a", "10.42.0.0/24"))
    assert len(ctl.cidrs) == 1
    ctl._node_deleted(node("a", "10.42.0.0/24"))
    assert len(ctl.cidrs) == 0


async def test_exhaustion_is_an_event_and_a_retry_and_failed_patches_release() -> None:
    ctl, client, recorder = make(
        node("a", "10.0.0.0/30"), node("b"), cluster_cidr="10.0.0.0/30", node_cidr_mask_size=30
    )
    with pytest.raises(CIDRExhausted):
        await ctl.sync("b")
    assert recorder.events == [
        ("Normal", "CIDRNotAvailable", "Node b status is now: CIDRNotAvailable")
    ]
    ctl._node_deleted(node("a", "10.0.0.0/30"))
    client.fail["patch"] = error(500, "InternalError")
    with pytest.raises(Exception, match="InternalError"):
        await ctl.sync("b")
    assert len(ctl.cidrs) == 0


async def test_only_nodes_without_cidrs_are_queued() -> None:
    ctl, _, _ = make()
    ctl._node_changed(node("a", "10.42.0.0/24"))
    ctl._node_changed(node("b"))
    assert len(ctl.queue) == 1


async def test_a_stale_cache_never_gets_a_node_a_second_cidr() -> None:
    ctl, client, _ = make(node("a"))
    await ctl.sync("a")
    await ctl.sync("a")
    assert len(client.of("patch", "nodes")) == 1
    ctl.nodes.indexer.add(node("a", "10.42.0.0/24"))
    await ctl.sync("a")
    assert ctl.assigned == {}
    assert len(ctl.cidrs) == 1
