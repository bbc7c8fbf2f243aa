"""The kubelet's route syncer follows the Nodes of the cluster."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from kybernetes.client import APIClient
from kybernetes.client.resource import NODES
from kybernetes.kubelet.routes import Route
from kybernetes.kubelet.routesync import RouteSyncer
from tests.unit.kubelet.test_routes import FakeTable


class WatchedTable(FakeTable):
    """A fake route table that says when it changes."""

    def __init__(self) -> None:
        super().__init__([])
        self.changed = asyncio.Event()

    async def replace(self, route: Route) -> None:
        await super().replace(route)
        self.changed.set()

    async def delete(self, route: Route) -> None:
        await super().delete(route)
        self.changed.set()

    async def until(self, done: Callable[[], bool]) -> None:
        while not done():
            await self.changed.wait()
            self.changed.clear()


def node(name: str, ip: str, cidr: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name},
        "spec": {"podCIDR": cidr, "podCIDRs": [cidr]},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}]},
    }


async def test_routes_follow_nodes(client: APIClient) -> None:
    await client.create(NODES, node("rs-self", "172.31.2.2", "10.42.1.0/24"))
    await client.create(NODES, node("rs-peer", "172.31.2.3", "10.42.2.0/24"))
    table = WatchedTable()
    syncer = RouteSyncer(client, "rs-self", apply=table, min_interval=0.01)
    task = asyncio.create_task(syncer.run())
    try:
        async with asyncio.timeout(10):
            await table.until(lambda: Route("10.42.2.0/24", "172.31.2.3") in table.routes.values())
            await client.delete(NODES, "rs-peer")
            await table.until(lambda: "10.42.2.0/24" not in table.routes)
        assert Route("10.42.1.0/24", "172.31.2.2") not in table.routes.values()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await client.delete(NODES, "rs-self")
