"""Node heartbeats: one Lease per node in `kube-node-lease`, renewed every 10 s
(pkg/kubelet/nodelease; renew interval = 1/4 of leaseDurationSeconds 40).

`NodeLeases` renews the leases of any number of nodes from one loop (a simulated
kubelet serves a thousand), spread over the interval, at most `concurrency` requests
at a time. A lease is
created on first renewal (holderIdentity = node name, ownerReference to the Node so
it goes with it); later renewals update the cached copy by compare-and-swap, and a
conflict or a missing lease makes the next renewal read or create it afresh (a
timeout keeps the cached copy: re-reading would only add load to a slow server).
Errors are logged and retried at the next tick; `run()` returns only by cancellation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    TransportError,
    is_conflict,
    is_not_found,
)
from kybernetes.client.leaderelection import micro_time
from kybernetes.client.resource import LEASES

log = logging.getLogger(__name__)
Obj = dict[str, Any]
NAMESPACE = "kube-node-lease"


class NodeLeases:
    """Heartbeats for the nodes `nodes()` names: (name, node uid) pairs."""

    def __init__(
        self,
        client: APIClient,
        clock: Clock,
        nodes: Callable[[], list[tuple[str, str]]],
        *,
        duration_seconds: int = 40,
        concurrency: int = 32,
    ) -> None:
        self._client = client
        self._clock = clock
        self._nodes = nodes
        self.duration_seconds = duration_seconds
        self._limit = asyncio.Semaphore(concurrency)
        self._leases: dict[str, Obj] = {}

    @property
    def interval(self) -> float:
        return self.duration_seconds / 4

    async def run(self) -> None:
        """Renews every node's lease once per interval, the renewals spread evenly
        over it (a thousand nodes make a steady 100 writes/s, not bursts)."""
        async with asyncio.TaskGroup() as group:
            while True:
                nodes = self._nodes()
                step = self.interval / max(1, len(nodes))
                for name, uid in nodes:
                    group.create_task(self._renew_limited(name, uid))
                    await self._clock.sleep(step)

    async def _renew_limited(self, name: str, uid: str) -> None:
        async with self._limit:
            try:
                await self.renew(name, uid)
            except (APIError, TransportError) as e:
                if is_conflict(e) or is_not_found(e):  # read it afresh next time
                    self._leases.pop(name, None)
                log.warning("node lease %s: %s", name, e or type(e).__name__)

    async def renew(self, name: str, uid: str) -> Obj:
        """Renews (or creates) one node's lease; answers the stored Lease."""
        now = micro_time(self._clock.wall())
        lease = self._leases.get(name)
        if lease is None:
            try:
                lease = await self._client.get(LEASES, name, NAMESPACE)
            except APIError as e:
                if not is_not_found(e):
                    raise
                lease = await self._client.create(LEASES, self._new(name, uid, now))
                self._leases[name] = lease
                return lease
        spec = {**lease.get("spec", {}), "holderIdentity": name, "renewTime": now}
        spec["leaseDurationSeconds"] = self.duration_seconds
        meta = dict(lease["metadata"])
        if uid and not meta.get("ownerReferences"):
            meta["ownerReferences"] = [_owner(name, uid)]
        updated = await self._client.update(LEASES, {**lease, "metadata": meta, "spec": spec})
        self._leases[name] = updated
        return updated

    def _new(self, name: str, uid: str, now: str) -> Obj:
        meta: Obj = {"name": name, "namespace": NAMESPACE}
        if uid:
            meta["ownerReferences"] = [_owner(name, uid)]
        return {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": meta,
            "spec": {
                "holderIdentity": name,
                "leaseDurationSeconds": self.duration_seconds,
                "renewTime": now,
            },
        }


def _owner(name: str, uid: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid}
