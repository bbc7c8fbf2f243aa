"""`PodGCController`: force-deletes pods nobody else will clean up — Kubernetes'
`pkg/controller/podgc`.

Every `gc_check_period` (20 s) `gc()` looks at the cached pods and nodes and:
1. when more pods than `terminated_pod_gc_threshold` (12500; 0 disables this step)
   are terminated (phase neither Pending, Running nor Unknown), deletes the surplus,
   evicted ones (Failed with reason `Evicted`) first, then oldest first (name breaks
   ties);
2. deletes terminating pods on nodes that are not Ready and carry the
   `node.kubernetes.io/out-of-service` taint;
3. deletes pods bound to nodes that no longer exist: a missing node is quarantined
   for `quarantine` seconds (40 s) and then confirmed missing by a live GET; its
   pods get the `DisruptionTarget` condition (reason `DeletionByPodGC`, "PodGC: node
   no longer exists");
4. deletes terminating pods that were never scheduled.
A pod that is not yet Succeeded/Failed is first set to phase Failed (with the
condition, if any) through the status subresource; deletions have grace period 0.
Errors on one pod are logged and do not stop the others (the next pass retries).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    SharedInformerFactory,
    TransportError,
    is_not_found,
)
from kybernetes.client.events import event_time
from kybernetes.client.resource import NODES, PODS

from ..base import wait_synced
from ..nodelifecycle.health import ready_status
from ..replicaset.pods import parse_time, with_condition

log = logging.getLogger(__name__)

Obj = dict[str, Any]

OUT_OF_SERVICE: Final = "node.kubernetes.io/out-of-service"
ORPHAN_CONDITION: Final = {
    "type": "DisruptionTarget",
    "status": "True",
    "reason": "DeletionByPodGC",
    "message": "PodGC: node no longer exists",
}


def is_terminated(pod: Obj) -> bool:
    return (pod.get("status") or {}).get("phase") not in ("Pending", "Running", "Unknown")


def _gc_order(pod: Obj) -> tuple[bool, float, str]:
    status, meta = pod.get("status") or {}, pod["metadata"]
    evicted = status.get("phase") == "Failed" and status.get("reason") == "Evicted"
    created = parse_time(meta.get("creationTimestamp"))
    return (not evicted, created.timestamp() if created else 0.0, meta["name"])


class PodGCController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        terminated_pod_gc_threshold: int = 12500,
        gc_check_period: float = 20.0,
        quarantine: float = 40.0,
    ) -> None:
        self.client = client
        self.threshold = terminated_pod_gc_threshold
        self.gc_check_period = gc_check_period
        self.quarantine = quarantine
        self._clock = clock
        self.pods = factory.informer(PODS)
        self.nodes = factory.informer(NODES)
        # Missing node name -> when it was first seen missing.
        self.missing_since: dict[str, float] = {}

    async def run(self) -> None:
        await wait_synced([self.pods, self.nodes])
        while True:
            await self.gc()
            await self._clock.sleep(self.gc_check_period)

    async def gc(self) -> None:
        """One pass of the four collections (module docstring)."""
        pods = self.pods.indexer.list()
        if self.threshold > 0:
            terminated = sorted((p for p in pods if is_terminated(p)), key=_gc_order)
            await self._delete_all(terminated[: max(len(terminated) - self.threshold, 0)])
        await self._delete_all([p for p in pods if self._terminating_out_of_service(p)])
        gone = await self._deleted_nodes(pods)
        orphans = [p for p in pods if (p.get("spec") or {}).get("nodeName") in gone]
        await self._delete_all(orphans, ORPHAN_CONDITION)
        unscheduled = [
            p
            for p in pods
            if p["metadata"].get("deletionTimestamp") and not (p.get("spec") or {}).get("nodeName")
        ]
        await self._delete_all(unscheduled)

    def _terminating_out_of_service(self, pod: Obj) -> bool:
        if not pod["metadata"].get("deletionTimestamp"):
            return False
        node = self.nodes.indexer.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None or ready_status(node) == "True":
            return False
        taints = (node.get("spec") or {}).get("taints") or []
        return any(t.get("key") == OUT_OF_SERVICE for t in taints)

    async def _deleted_nodes(self, pods: list[Obj]) -> set[str]:
        """Nodes pods are bound to that are missing, quarantined, and confirmed gone."""
        now = self._clock.now()
        bound = {str((p.get("spec") or {}).get("nodeName") or "") for p in pods} - {""}
        missing = {name for name in bound if name not in self.nodes.indexer}
        self.missing_since = {n: t for n, t in self.missing_since.items() if n in missing}
        gone: set[str] = set()
        for name in sorted(missing):
            since = self.missing_since.setdefault(name, now)
            if now - since < self.quarantine:
                continue
            try:
                await self.client.get(NODES, name)
            except APIError as e:
                if is_not_found(e):
                    gone.add(name)
                else:
                    log.warning("podgc: getting node %s: %s", name, e)
            except TransportError as e:
                log.warning("podgc: getting node %s: %s", name, e)
            else:
                del self.missing_since[name]
        return gone

    async def _delete_all(self, pods: list[Obj], condition: Obj | None = None) -> None:
        await asyncio.gather(*(self._mark_failed_and_delete(p, condition) for p in pods))

    async def _mark_failed_and_delete(self, pod: Obj, condition: Obj | None) -> None:
        meta = pod["metadata"]
        try:
            status = pod.get("status") or {}
            if status.get("phase") not in ("Succeeded", "Failed"):
                failed = {**pod, "status": {**status, "phase": "Failed"}}
                if condition is not None:
                    stamped = {**condition, "lastTransitionTime": event_time(self._clock.wall())}
                    failed = with_condition(failed, stamped)
                await self.client.update_status(PODS, failed)
            await self.client.delete(PODS, meta["name"], meta["namespace"], grace_period_seconds=0)
            log.info("podgc: force deleted pod %s/%s", meta["namespace"], meta["name"])
        except (APIError, TransportError) as e:
            if not is_not_found(e):
                log.warning("podgc: deleting pod %s/%s: %s", meta["namespace"], meta["name"], e)
