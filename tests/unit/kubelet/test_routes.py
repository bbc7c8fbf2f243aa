"""Host-gw pod routes: the pure computation, the sync against a fake table, and the
`ip route` applier inside a network namespace of the test's own (root)."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from kybernetes.kubelet.routes import (
    ROUTE_PROTOCOL,
    IpRouteApplier,
    Route,
    desired_routes,
    sync_routes,
)


def node(name: str, ip: str | None, *cidrs: str, legacy: bool = False) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if cidrs:
        spec = {"podCIDR": cidrs[0]} if legacy else {"podCIDR": cidrs[0], "podCIDRs": list(cidrs)}
    addresses = [{"type": "Hostname", "address": name}]
    if ip:
        addresses.insert(0, {"type": "InternalIP", "address": ip})
    return {"metadata": {"name": name}, "spec": spec, "status": {"addresses": addresses}}


NODES = [
    node("a", "172.31.1.2", "10.42.0.0/24"),
    node("b", "172.31.1.3", "10.42.1.0/24"),
    node("c", "172.31.1.4", "10.42.2.0/24", legacy=True),
]


def test_routes_to_every_other_node() -> None:
    assert desired_routes("a", NODES) == [
        Route("10.42.1.0/24", "172.31.1.3"),
        Route("10.42.2.0/24", "172.31.1.4"),
    ]


def test_nodes_without_address_or_cidr_give_no_route() -> None:
    nodes = [*NODES, node("d", None, "10.42.3.0/24"), node("e", "172.31.1.6")]
    assert [r.destination for r in desired_routes("a", nodes)] == ["10.42.1.0/24", "10.42.2.0/24"]


def test_only_cidrs_inside_the_cluster_cidr() -> None:
    nodes = [node("x", "172.31.1.9", "0.0.0.0/0", "192.168.0.0/24", "10.42.9.0/24")]
    assert desired_routes("a", nodes) == [Route("10.42.9.0/24", "172.31.1.9")]
    assert desired_routes("a", nodes, ["192.168.0.0/16"]) == [Route("192.168.0.0/24", "172.31.1.9")]


def test_dual_stack_uses_the_gateway_of_each_family() -> None:
    n = node("v6", "172.31.1.8", "10.42.8.0/24", "fd00:42:0:8::/64")
    n["status"]["addresses"].append({"type": "InternalIP", "address": "fd00::8"})
    routes = desired_routes("a", [n], ["10.42.0.0/16", "fd00:42::/48"])
    assert routes == [Route("10.42.8.0/24", "172.31.1.8"), Route("fd00:42:0:8::/64", "fd00::8")]
    # an IPv6 pod CIDR without an IPv6 InternalIP has no gateway
    n["status"]["addresses"].pop()
    assert desired_routes("a", [n], ["10.42.0.0/16", "fd00:42::/48"]) == routes[:1]


class FakeTable:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = {r.destination: r for r in routes}
        self.calls: list[tuple[str, Route]] = []

    async def list_routes(self) -> list[Route]:
        return list(self.routes.values())

    async def replace(self, route: Route) -> None:
        self.calls.append(("replace", route))
        self.routes[route.destination] = route

    async def delete(self, route: Route) -> None:
        self.calls.append(("delete", route))
        del self.routes[route.destination]


async def test_sync_converges_and_is_idempotent() -> None:
    stale = Route("10.42.7.0/24", "172.31.1.7")
    moved = Route("10.42.1.0/24", "172.31.1.99")
    outside = Route("192.168.5.0/24", "172.31.1.5")  # not ours to touch
    table = FakeTable([stale, moved, outside])
    changes = await sync_routes("a", NODES, apply=table)
    assert changes.deleted == (stale,)
    assert set(changes.replaced) == {Route("10.42.1.0/24", "172.31.1.3"),
                                     Route("10.42.2.0/24", "172.31.1.4")}  # fmt: skip
    assert sorted(table.routes.values()) == [*desired_routes("a", NODES), outside]
    table.calls.clear()
    again = await sync_routes("a", NODES, apply=table)
    assert (again.replaced, again.deleted, table.calls) == ((), (), [])


async def test_a_node_that_leaves_loses_its_route() -> None:
    table = FakeTable([])
    await sync_routes("a", NODES, apply=table)
    await sync_routes("a", NODES[:2], apply=table)
    assert list(table.routes.values()) == [Route("10.42.1.0/24", "172.31.1.3")]


@pytest.fixture
def netns() -> Iterator[str]:
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("needs root and iproute2")
    name = f"kybtest-routes-{secrets.token_hex(3)}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        for cmd in (
            ["link", "set", "lo", "up"],
            ["link", "add", "d0", "type", "veth", "peer", "name", "d1"],
            ["addr", "add", "172.31.1.2/24", "dev", "d0"],
            ["link", "set", "d1", "up"],
            ["link", "set", "d0", "up"],
            ["route", "add", "10.42.0.0/24", "dev", "d0"],  # like the CNI bridge's own route
        ):
            subprocess.run(["ip", "-n", name, *cmd], check=True)
        yield name
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)


def _table(ns: str) -> str:
    return subprocess.run(["ip", "-n", ns, "-4", "route", "show"], capture_output=True,
                          text=True, check=True).stdout  # fmt: skip


@pytest.mark.root
async def test_ip_route_applier_in_a_namespace(netns: str) -> None:
    applier = IpRouteApplier(command=("ip", "-n", netns))
    await sync_routes("a", NODES, apply=applier)
    table = _table(netns)
    assert f"10.42.1.0/24 via 172.31.1.3 dev d0 proto {ROUTE_PROTOCOL}" in table
    assert f"10.42.2.0/24 via 172.31.1.4 dev d0 proto {ROUTE_PROTOCOL}" in table
    assert sorted(await applier.list_routes()) == desired_routes("a", NODES)
    await sync_routes("a", [NODES[0], node("b", "172.31.1.5", "10.42.1.0/24")], apply=applier)
    table = _table(netns)
    assert "10.42.1.0/24 via 172.31.1.5" in table and "10.42.2.0/24" not in table
    assert "10.42.0.0/24 dev d0" in table  # the node's own pod route is never touched
    await applier.delete(Route("10.42.1.0/24", "172.31.1.5"))
    await applier.delete(Route("10.42.1.0/24", "172.31.1.5"))  # already gone: no error
    assert await applier.list_routes() == []
