"""`NodeIpamController`: gives every node a pod CIDR (`spec.podCIDR` and
`spec.podCIDRs`) from the cluster CIDR — Kubernetes' node IPAM controller with the
RangeAllocator (`--cluster-cidr`, default 10.42.0.0/16; `--node-cidr-mask-size`,
default 24).

`run()` first occupies every subnet the cached nodes already carry (so a restarted
controller never hands one out twice), then syncs node keys. `sync(name)`: a node
that has pod CIDRs has them occupied; one without gets the next free subnet, written
with a merge patch (released again if the patch fails) and remembered until the
cache shows it, so that a sync on a stale cache never gives the node a second one.
A deleted node's subnet is released by the delete handler. When the cluster CIDR is
exhausted the node gets a `CIDRNotAvailable` Event and is retried with backoff. Only
IPv4 single-stack.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    is_not_found,
)
from kybernetes.client.resource import NODES

from ..base import Workers, event_object, run_queues
from .cidrset import CIDRExhausted, CIDRSet

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class NodeIpamController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        cluster_cidr: str = "10.42.0.0/16",
        node_cidr_mask_size: int = 24,
        workers: int = 2,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.workers = workers
        self.cidrs = CIDRSet(cluster_cidr, node_cidr_mask_size)
        # Node name -> the CIDR patched onto it that the cache does not show yet.
        self.assigned: dict[str, str] = {}
        self.nodes = factory.informer(NODES)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.nodes.add_handler(
            self._node_changed, lambda _, new: self._node_changed(new), self._node_deleted
        )

    async def run(self) -> None:
        workers = Workers(self.queue, self.sync, self.workers)
        await run_queues([self.nodes], workers, on_synced=self.occupy_existing)

    def occupy_existing(self) -> None:
        """Marks the subnets of every cached node as taken."""
        for node in self.nodes.indexer.list():
            self._occupy(node)

    def _node_changed(self, node: Obj) -> None:
        if not _pod_cidrs(node):
            self.queue.add(node["metadata"]["name"])

    def _node_deleted(self, node: Obj | DeletedFinalStateUnknown) -> None:
        obj = event_object(node)
        pending = self.assigned.pop(obj["metadata"]["name"], None)
        for cidr in {*_pod_cidrs(obj), *([pending] if pending else [])}:
            try:
                self.cidrs.release(cidr)
            except ValueError:
                continue

    def _occupy(self, node: Obj) -> None:
        for cidr in _pod_cidrs(node):
            try:
                self.cidrs.occupy(cidr)
            except ValueError as e:
                log.warning("node %s: %s", node["metadata"]["name"], e)

    async def sync(self, name: str) -> None:
        """Gives node `name` a pod CIDR if it has none (module docstring)."""
        node = self.nodes.indexer.get(name)
        if node is None:
            return
        if _pod_cidrs(node):
            self.assigned.pop(name, None)
            self._occupy(node)
            return
        if name in self.assigned:
            return  # patched; the cache has not caught up
        try:
            cidr = self.cidrs.allocate_next()
        except CIDRExhausted:
            self.recorder.event(
                node, "Normal", "CIDRNotAvailable", f"Node {name} status is now: CIDRNotAvailable"
            )
            raise
        patch = {"spec": {"podCIDR": cidr, "podCIDRs": [cidr]}}
        self.assigned[name] = cidr
        try:
            await self.client.patch(NODES, name, patch)
        except APIError as e:
            del self.assigned[name]
            self.cidrs.release(cidr)
            if is_not_found(e):
                return
            self.recorder.event(
                node,
                "Normal",
                "CIDRAssignmentFailed",
                f"Node {name} status is now: CIDRAssignmentFailed",
            )
            raise


def _pod_cidrs(node: Obj) -> list[str]:
    spec = node.get("spec") or {}
    cidrs = list(spec.get("podCIDRs") or [])
    if not cidrs and spec.get("podCIDR"):
        cidrs = [spec["podCIDR"]]
    return [str(c) for c in cidrs]
