"""`NodeLifecycleController`: notices nodes whose kubelet stopped heartbeating, taints
them, and evicts their pods — Kubernetes' `pkg/controller/nodelifecycle` with its
taint-based eviction (`pkg/controller/tainteviction`).

Two level-triggered loops on shared informers (Nodes, Leases in `kube-node-lease`,
Pods):

- Node keys (`sync_node`): `HealthTracker` records the node's last heartbeat (Ready
  condition or Lease renewal). Past the grace period, the node's Ready, MemoryPressure,
  DiskPressure and PIDPressure conditions become Unknown (`health.stale_conditions`;
  a `NodeNotReady` Event when Ready leaves True). Then its controller-managed taints
  are made to match its state: `node.kubernetes.io/not-ready` (Ready False) or
  `node.kubernetes.io/unreachable` (Ready Unknown) with effect NoExecute, and the
  NoSchedule taints of TaintNodesByCondition; the NoExecute taints go when Ready is
  True again; a node that never posted a Ready condition gets none while in its
  startup grace period. Adding a NoExecute taint (not swapping one for the other) is paced per
  zone, and none is kept in full disruption mode (`zones`). A healthy node is
  requeued for the moment its grace period ends.
- Pod keys (`sync_pod`): a pod on a node whose Ready condition is there but not
  True gets its Ready condition set to False (MarkPodsNotReady). A pod on a node with
  NoExecute taints it does not all tolerate is deleted at once; otherwise it is deleted once the
  shortest `tolerationSeconds` of the tolerations used has passed since the
  controller first saw it so exposed (never, when they all tolerate forever). A
  deleted pod first gets the `DisruptionTarget` condition (reason
  `DeletionByTaintManager`). Events `TaintManagerEviction`: "Marking for deletion Pod
  ns/name" when it is deleted, "Cancelling deletion of Pod ns/name" when a scheduled
  deletion is called off.

Writes are compare-and-swap updates; a Conflict raises and the key is retried. Time
comes from the injected clock.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from kybernetes.api.tolerations import matching_tolerations
from kybernetes.client import (
    BY_NODE,
    APIClient,
    APIError,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    is_not_found,
)
from kybernetes.client.events import event_time
from kybernetes.client.resource import LEASES, NODES, PODS

from ..base import Workers, enqueue_keys, event_object, run_queues
from ..replicaset.pods import ready_condition, with_condition
from .health import HealthTracker, ready_status, stale_conditions
from .taints import (
    CONDITION_TAINT_KEYS,
    NO_EXECUTE,
    NO_SCHEDULE,
    NOT_READY,
    UNREACHABLE,
    condition_taints,
    min_toleration_seconds,
    with_taints,
)
from .zones import EXCLUDE_DISRUPTION_LABEL, FULL_DISRUPTION, NORMAL, Pacer, zone_key

log = logging.getLogger(__name__)

Obj = dict[str, Any]

NODE_LEASE_NAMESPACE: Final = "kube-node-lease"
NODE_MONITOR_PERIOD: Final = 5.0
"""Seconds between retries of a node whose NoExecute taint waits for its zone's pace
(kube-controller-manager's --node-monitor-period)."""
_MANAGED: Final = {(key, NO_SCHEDULE) for key in CONDITION_TAINT_KEYS} | {
    (NOT_READY, NO_EXECUTE),
    (UNREACHABLE, NO_EXECUTE),
}
_NO_EXECUTE_FOR: Final = {"False": NOT_READY, "Unknown": UNREACHABLE}


class NodeLifecycleController:
    """See the module docstring. `grace_period` is --node-monitor-grace-period,
    `startup_grace_period` --node-startup-grace-period (for nodes that never posted
    a Ready condition)."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        grace_period: float = 40.0,
        startup_grace_period: float = 60.0,
        node_eviction_rate: float = 0.1,
        secondary_node_eviction_rate: float = 0.01,
        large_cluster_size_threshold: int = 50,
        unhealthy_zone_threshold: float = 0.55,
        workers: int = 4,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.workers = workers
        self._clock = clock
        self.health = HealthTracker(grace_period, startup_grace_period)
        self.pacer = Pacer(
            clock,
            node_eviction_rate=node_eviction_rate,
            secondary_node_eviction_rate=secondary_node_eviction_rate,
            large_cluster_size_threshold=large_cluster_size_threshold,
            unhealthy_zone_threshold=unhealthy_zone_threshold,
        )
        self.full_disruption = False
        self.nodes = factory.informer(NODES)
        self.leases = factory.informer(LEASES, namespace=NODE_LEASE_NAMESPACE)
        self.pods = factory.informer(PODS)
        self.node_queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.pod_queue: WorkQueue[str] = WorkQueue(clock=clock)
        # Pod key -> clock time its eviction was scheduled (the taint manager's queue).
        self.evictions: dict[str, float] = {}
        self.nodes.add_handler(self._node_added, self._node_updated, self._node_deleted)
        self.leases.add_handler(self._lease_changed, lambda _, new: self._lease_changed(new))
        enqueue_keys(self.pods, self.pod_queue, when=_bound, deletes=False)

    async def run(self) -> None:
        await run_queues(
            [self.nodes, self.leases, self.pods],
            Workers(self.node_queue, self.sync_node, self.workers),
            Workers(self.pod_queue, self.sync_pod, self.workers),
        )

    # --- handlers: enqueue only -------------------------------------------------------

    def _node_added(self, node: Obj) -> None:
        self.node_queue.add(node["metadata"]["name"])
        self._enqueue_pods_on(node["metadata"]["name"])
        self._enqueue_not_ready()

    def _node_updated(self, old: Obj, new: Obj) -> None:
        name = new["metadata"]["name"]
        self.node_queue.add(name)
        ready_changed = ready_status(old) != ready_status(new)
        old_taints = (old.get("spec") or {}).get("taints")
        if ready_changed or old_taints != (new.get("spec") or {}).get("taints"):
            self._enqueue_pods_on(name)
        if ready_changed or zone_key(old) != zone_key(new):
            self._enqueue_not_ready()
            if self.full_disruption and ready_status(new) == "True":
                self._zone_states(None, self._clock.wall())

    def _node_deleted(self, node: Obj | DeletedFinalStateUnknown) -> None:
        self.node_queue.add(event_object(node)["metadata"]["name"])
        self._enqueue_not_ready()

    def _enqueue_not_ready(self) -> None:
        """Zone states changed: requeue the nodes whose NoExecute taint depends on
        them (not during the first list: every node is queued then anyway)."""
        if not self.nodes.has_synced.is_set():
            return
        for node in self.nodes.indexer.list():
            if ready_status(node) != "True":
                self.node_queue.add(node["metadata"]["name"])

    def _lease_changed(self, lease: Obj) -> None:
        self.node_queue.add(lease["metadata"]["name"])

    def _enqueue_pods_on(self, node_name: str) -> None:
        for key in self.pods.indexer.index_keys(BY_NODE, node_name):
            self.pod_queue.add(key)

    # --- nodes ------------------------------------------------------------------------

    async def sync_node(self, name: str) -> None:
        """Marks a stale node Unknown and reconciles its taints (module docstring)."""
        node = self.nodes.indexer.get(name)
        if node is None:
            self.health.forget(name)
            return
        now = self._clock.wall()
        lease = self.leases.indexer.get_by_name(NODE_LEASE_NAMESPACE, name)
        deadline = self.health.observe(node, lease, now)
        if now >= deadline:
            status = node.get("status") or {}
            conditions = stale_conditions(node, now)
            if conditions != (status.get("conditions") or []):
                was = ready_status(node)
                updated = {**node, "status": {**status, "conditions": conditions}}
                node = await self.client.update_status(NODES, updated)
                if was == "True":
                    self.recorder.event(
                        node, "Normal", "NodeNotReady", f"Node {name} status is now: NodeNotReady"
                    )
        else:
            self.node_queue.add_after(name, (deadline - now).total_seconds())
        wanted = condition_taints(node)
        no_execute = self._paced_no_execute(node, now)
        if no_execute is not None:
            wanted.append({"key": no_execute, "effect": NO_EXECUTE})
        taints = with_taints(node, wanted, _MANAGED, now)
        if taints != ((node.get("spec") or {}).get("taints") or []):
            spec = {**(node.get("spec") or {}), "taints": taints}
            if not taints:
                del spec["taints"]
            await self.client.update(NODES, {**node, "spec": spec})

    def _zone_states(self, node: Obj | None, now: datetime) -> dict[str, tuple[str, int]]:
        """The zones' (state, size), with `node` as just written and the others as
        cached; enters or leaves full disruption mode accordingly."""
        name = node["metadata"]["name"] if node is not None else None
        nodes = self.nodes.indexer.list()
        states = self.pacer.states(
            (zone_key(n), ready_status(node if node and n["metadata"]["name"] == name else n))
            for n in nodes
            if EXCLUDE_DISRUPTION_LABEL not in (n["metadata"].get("labels") or {})
        )
        full = bool(states) and all(state == FULL_DISRUPTION for state, _ in states.values())
        if full != self.full_disruption:
            self.full_disruption = full
            if full:
                log.warning("all nodes are not ready: entering full disruption mode")
                for other in nodes:
                    self.node_queue.add(other["metadata"]["name"])
            else:
                log.info("some nodes are ready: leaving full disruption mode")
                self.health.restart(now)
        return states

    def _paced_no_execute(self, node: Obj, now: datetime) -> str | None:
        """The NoExecute taint key the node should carry now, given its Ready
        status, the zones' states and the pace of new taints (module docstring)."""
        if ready_condition(node) is None:
            return None  # within its startup grace period: nothing to say yet
        wanted = _NO_EXECUTE_FOR.get(ready_status(node))
        if wanted is None:
            return None
        name = node["metadata"]["name"]
        states = self._zone_states(node, now)
        if self.full_disruption:
            return None
        taints = (node.get("spec") or {}).get("taints") or []
        if any(_no_execute(t) and t.get("key") in (NOT_READY, UNREACHABLE) for t in taints):
            return wanted  # already tainted, or a swap: not paced
        zone = zone_key(node)
        state, size = states.get(zone, (NORMAL, 1))
        wait = self.pacer.try_taint(zone, state, size)
        if wait > 0:
            self.node_queue.add_after(name, min(wait, NODE_MONITOR_PERIOD))
            return None
        return wanted

    # --- pods -------------------------------------------------------------------------

    async def sync_pod(self, key: str) -> None:
        """Marks a pod on a not-ready node not ready; evicts it per its node's
        NoExecute taints and its tolerations (module docstring)."""
        pod = self.pods.indexer.get(key)
        if pod is None:
            self.evictions.pop(key, None)
            return
        node = self.nodes.indexer.get((pod.get("spec") or {}).get("nodeName") or "")
        if node is None:
            self._cancel(pod, key)
            return
        if ready_condition(node) is not None and ready_status(node) != "True":
            pod = await self._mark_not_ready(pod)
        if pod["metadata"].get("deletionTimestamp"):
            self.evictions.pop(key, None)  # already going
            return
        taints = [t for t in (node.get("spec") or {}).get("taints") or [] if _no_execute(t)]
        if not taints:
            self._cancel(pod, key)
            return
        tolerated, used = matching_tolerations(
            taints, (pod.get("spec") or {}).get("tolerations") or []
        )
        if not tolerated:
            await self._evict(pod, key)
            return
        seconds = min_toleration_seconds(used)
        if seconds is None:
            self._cancel(pod, key)
            return
        start = self.evictions.get(key)
        if start is None:
            start = self.evictions[key] = self._clock.now()
        remaining = start + seconds - self._clock.now()
        if remaining > 0:
            self.pod_queue.add_after(key, remaining)
            return
        await self._evict(pod, key)

    def _cancel(self, pod: Obj, key: str) -> None:
        if self.evictions.pop(key, None) is not None:
            self.recorder.event(
                pod, "Normal", "TaintManagerEviction", f"Cancelling deletion of Pod {key}"
            )

    async def _mark_not_ready(self, pod: Obj) -> Obj:
        ready = ready_condition(pod)
        if ready is None or ready.get("status") == "False":
            return pod
        ready.update(status="False", lastTransitionTime=event_time(self._clock.wall()))
        updated = with_condition(pod, ready)
        try:
            written = await self.client.update_status(PODS, updated)
        except APIError as e:
            if is_not_found(e):
                return pod
            raise
        self.recorder.event(pod, "Warning", "NodeNotReady", "Node is not ready")
        return written

    async def _evict(self, pod: Obj, key: str) -> None:
        meta = pod["metadata"]
        target = {
            "type": "DisruptionTarget",
            "status": "True",
            "reason": "DeletionByTaintManager",
            "message": "Taint manager: deleting due to NoExecute taint",
            "lastTransitionTime": event_time(self._clock.wall()),
        }
        self.recorder.event(
            pod, "Normal", "TaintManagerEviction", f"Marking for deletion Pod {key}"
        )
        try:
            await self.client.update_status(PODS, with_condition(pod, target))
            await self.client.delete(PODS, meta["name"], meta["namespace"])
        except APIError as e:
            if not is_not_found(e):
                raise
        self.evictions.pop(key, None)


def _bound(pod: Obj) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName"))


def _no_execute(taint: Obj) -> bool:
    return taint.get("effect") == NO_EXECUTE
