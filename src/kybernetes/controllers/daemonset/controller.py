"""`DaemonSetController`: one daemon pod on every eligible node, as Kubernetes'
`pkg/controller/daemon` does.

Handlers only enqueue DaemonSet keys: their own events; pod events (the controlling
DaemonSet, reporting observed creations/deletions to the expectations; orphans to
every DaemonSet whose selector matches); node additions and node changes of labels,
taints or conditions (every DaemonSet: which nodes qualify may have changed);
ControllerRevision events (their controlling DaemonSet).

`sync(key)` re-reads the DaemonSet and:
1. refuses an empty selector (`SelectingAll` warning) and does nothing while it is
   being deleted (the garbage collector removes its pods);
2. claims its ControllerRevisions and ensures the one of the current template
   (`history`; a hash collision bumps `status.collisionCount` and retries); its
   hash is the pods' `controller-revision-hash` label;
3. claims its pods (adopting matching orphans), groups them by the node they run on
   or are pinned to, and - once earlier writes were observed - creates pods on the
   nodes lacking one (pinned by node affinity; the scheduler binds them) and deletes
   surplus, failed and misplaced ones (`plan.manage`); when that had nothing to do,
   one RollingUpdate step (`plan.rolling_update`; OnDelete: none). Failed pods are
   deleted (and so replaced) with a per-node back-off (`FailedDaemonPod` warning),
   1 s doubling to 15 minutes;
4. deletes revisions beyond `revisionHistoryLimit` no pod uses, and writes the status
   if it changed (requeueing after `minReadySeconds` while pods wait to be available).
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.api.selectors import SelectorError, label_selector_as_selector
from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    APIError,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    is_not_found,
    object_key,
    split_key,
)
from kybernetes.client.resource import CONTROLLERREVISIONS, DAEMONSETS, NODES, PODS

from ..base import (
    Workers,
    controller_key,
    enqueue_keys,
    enqueue_related,
    enqueue_selecting,
    event_key,
    event_object,
    owner_selector,
    run_queues,
)
from ..expectations import ControllerExpectations
from ..history import CONTROLLER_REVISION_HASH, HashCollision, History, revision_hash
from ..replicaset import slow_start_batch
from ..replicaset.claim import claim
from ..replicaset.pods import controller_ref, is_pod_ready, pod_from_template
from .nodes import daemon_tolerations, pin_to_node, pod_node, should_run
from .plan import (
    TEMPLATE_GENERATION,
    TEMPLATE_GENERATION_ANNOTATION,
    NodeState,
    manage,
    rolling_update,
    status,
)

log = logging.getLogger(__name__)

FAILED_POD_BACKOFF = 1.0
MAX_FAILED_POD_BACKOFF = 900.0


Obj = dict[str, Any]


class DaemonSetController:
    """See the module docstring. `run()` waits for the caches, then runs `workers`
    sync workers until cancelled."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        workers: int = 2,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.clock = clock
        self.workers = workers
        self.daemon_sets = factory.informer(DAEMONSETS)
        self.pods = factory.informer(PODS)
        self.nodes = factory.informer(NODES)
        self.revisions = factory.informer(CONTROLLERREVISIONS)
        self.history = History(client, self.revisions, DAEMONSETS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.expectations = ControllerExpectations(clock)
        # Failed-pod back-off per (DaemonSet, node): (current delay, not before).
        self.failed_backoff: dict[tuple[str, str], tuple[float, float]] = {}
        enqueue_keys(self.daemon_sets, self.queue)
        self.daemon_sets.add_handler(on_delete=lambda ds: self.expectations.delete(event_key(ds)))
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)
        self.nodes.add_handler(lambda _: self._enqueue_all(), self._node_updated)
        enqueue_related(self.revisions, self.queue, self._owner_keys)

    async def run(self) -> None:
        informers = [self.daemon_sets, self.pods, self.nodes, self.revisions]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    # --- handlers: enqueue only -------------------------------------------------------

    def _enqueue_all(self) -> None:
        for key in self.daemon_sets.indexer.keys():  # noqa: SIM118 (Indexer is not iterable)
            self.queue.add(key)

    def _node_updated(self, old: Obj, new: Obj) -> None:
        def relevant(node: Obj) -> tuple[Any, ...]:
            conditions = [
                (c.get("type"), c.get("status"))
                for c in (node.get("status") or {}).get("conditions") or []
            ]
            spec = node.get("spec") or {}
            return (node["metadata"].get("labels"), spec.get("taints"), conditions)

        if relevant(old) != relevant(new):
            self._enqueue_all()

    def _owner_key(self, obj: Obj) -> str | None:
        return controller_key(self.daemon_sets, obj, "DaemonSet")

    def _owner_keys(self, obj: Obj) -> list[str]:
        key = self._owner_key(obj)
        return [] if key is None else [key]

    def _enqueue_matching(self, pod: Obj) -> None:
        enqueue_selecting(self.queue, self.daemon_sets, pod, owner_selector)

    def _pod_added(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if new["metadata"].get("deletionTimestamp"):
            self._pod_deleted(new)
            return
        old_key, key = self._owner_key(old), self._owner_key(new)
        if old_key is not None and old_key != key:
            self.queue.add(old_key)
        if key is not None:
            self.queue.add(key)
            ds = self.daemon_sets.indexer.get(key) or {}
            min_ready = int((ds.get("spec") or {}).get("minReadySeconds") or 0)
            if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                self.queue.add_after(key, min_ready + 1)
        elif controller_ref(new) is None:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        obj = event_object(pod)
        key = self._owner_key(obj)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(obj))
            self.queue.add(key)

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one DaemonSet (see module docstring); raises to be retried."""
        namespace, _ = split_key(key)
        ds = self.daemon_sets.indexer.get(key)
        if ds is None:
            self.expectations.delete(key)
            return
        try:
            selector = label_selector_as_selector(ds["spec"].get("selector"))
        except SelectorError as e:
            log.warning("daemonset %s has an invalid selector: %s", key, e)
            return
        if selector.empty:
            message = "This daemon set is selecting all pods. A non-empty selector is required."
            self.recorder.event(ds, "Warning", "SelectingAll", message)
            return
        if ds["metadata"].get("deletionTimestamp"):
            return
        revisions = await self.history.claim(ds, selector)
        try:
            current = await self.history.ensure(ds, revisions)
        except HashCollision as e:
            new_status = {**(ds.get("status") or {}), "collisionCount": e.collision_count}
            await self.client.update_status(DAEMONSETS, {**ds, "status": new_status})
            raise
        hash_ = revision_hash(current)
        candidates = self.pods.indexer.by_index(BY_NAMESPACE, namespace)
        pods = await claim(self.client, DAEMONSETS, PODS, ds, selector, candidates)
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        nodes = self._node_states(ds, live)
        now = self.clock.wall()
        if self.expectations.satisfied(key):
            create, delete = manage(ds, nodes[0], hash_, now)
            delete = [p for p in delete if self._may_kill(ds, key, p)] + nodes[1]
            await self._sync_nodes(ds, key, create, delete, hash_)
            strategy = (ds["spec"].get("updateStrategy") or {}).get("type") or "RollingUpdate"
            # A rolling step works on the pods as they were before manage wrote: only
            # when manage had nothing to do (its writes may already show as observed).
            if not create and not delete and strategy == "RollingUpdate":
                old_pods, surge = rolling_update(ds, nodes[0], hash_, now)
                await self._sync_nodes(ds, key, surge, old_pods, hash_)
            used = {
                str((p["metadata"].get("labels") or {}).get(CONTROLLER_REVISION_HASH)) for p in pods
            }
            live_revisions = {r["metadata"]["name"] for r in revisions if revision_hash(r) in used}
            live_revisions.add(current["metadata"]["name"])
            limit = int(ds["spec"].get("revisionHistoryLimit", 10))
            await self.history.truncate(revisions, live_revisions, limit)
        new = {**(ds.get("status") or {}), **status(ds, nodes[0], hash_, now)}
        if new != (ds.get("status") or {}):
            await self.client.update_status(DAEMONSETS, {**ds, "status": new})
        min_ready = int(ds["spec"].get("minReadySeconds") or 0)
        if min_ready > 0 and new["numberReady"] != new["numberAvailable"]:
            self.queue.add_after(key, min_ready)

    def _may_kill(self, ds: Obj, key: str, pod: Obj) -> bool:
        """Whether to delete `pod` now: always, unless it Failed, in which case its
        node's back-off (1 s doubling to 15 min) must have passed; the DaemonSet is
        requeued for when it has."""
        if (pod.get("status") or {}).get("phase") != "Failed":
            return True
        node = pod_node(pod) or ""
        delay, not_before = self.failed_backoff.get((key, node), (0.0, 0.0))
        now = self.clock.now()
        if now < not_before:
            self.queue.add_after(key, not_before - now)
            return False
        delay = min(max(delay * 2, FAILED_POD_BACKOFF), MAX_FAILED_POD_BACKOFF)
        self.failed_backoff[(key, node)] = (delay, now + delay)
        meta = pod["metadata"]
        message = (
            f"Found failed daemon pod {meta['namespace']}/{meta['name']} on node {node}, "
            "will try to kill it"
        )
        self.recorder.event(ds, "Warning", "FailedDaemonPod", message)
        return True

    def _node_states(self, ds: Obj, pods: list[Obj]) -> tuple[list[NodeState], list[Obj]]:
        """Per-node state, and unscheduled pods pinned to nodes that do not exist."""
        by_node: dict[str, list[Obj]] = {}
        for pod in sorted(pods, key=lambda p: p["metadata"].get("creationTimestamp") or ""):
            pinned = pod_node(pod)
            if pinned is not None:
                by_node.setdefault(pinned, []).append(pod)
        states = []
        for node in sorted(self.nodes.indexer.list(), key=lambda n: n["metadata"]["name"]):
            run, keep = should_run(ds, node)
            states.append(NodeState(node, run, keep, by_node.pop(node["metadata"]["name"], [])))
        strays = [
            p for ps in by_node.values() for p in ps if not (p.get("spec") or {}).get("nodeName")
        ]
        return states, strays

    def _new_pod(self, ds: Obj, node: str, hash_: str) -> Obj:
        pod = pod_from_template(ds, ds["spec"].get("template") or {})
        labels = pod["metadata"]["labels"]
        labels[CONTROLLER_REVISION_HASH] = hash_
        generation = (ds["metadata"].get("annotations") or {}).get(TEMPLATE_GENERATION_ANNOTATION)
        if generation is not None:
            labels[TEMPLATE_GENERATION] = generation
        spec = pod["spec"]
        spec["tolerations"] = daemon_tolerations(spec)
        spec["affinity"] = pin_to_node(spec.get("affinity"), node)
        return pod

    async def _sync_nodes(
        self, ds: Obj, key: str, create: list[str], delete: list[Obj], hash_: str
    ) -> None:
        """Deletes `delete`, or, if there is nothing to delete, creates a pod for each
        node in `create` (slow-start batches): the expectations track one kind of
        write at a time, so creations wait for observed deletions (the next sync).
        Raises the first API error after doing what it could."""
        first: APIError | None = None
        if delete:
            self.expectations.expect_deletions(key, [object_key(p) for p in delete])
            for pod in delete:
                meta = pod["metadata"]
                try:
                    await self.client.delete(PODS, meta["name"], meta["namespace"])
                except APIError as e:
                    self.expectations.deletion_observed(key, object_key(pod))
                    if not is_not_found(e):
                        self.recorder.event(ds, "Warning", "FailedDelete", f"Error deleting: {e}")
                        first = first or e
                    continue
                self.recorder.event(
                    ds, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}"
                )
        if create and not delete:
            pending = list(create)
            self.expectations.expect_creations(key, len(create))

            async def create_one() -> None:
                pod = self._new_pod(ds, pending.pop(0), hash_)
                try:
                    made = await self.client.create(PODS, pod)
                except APIError as e:
                    self.recorder.event(ds, "Warning", "FailedCreate", f"Error creating: {e}")
                    raise
                name = made["metadata"]["name"]
                self.recorder.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {name}")

            successes, error = await slow_start_batch(len(create), 1, create_one)
            for _ in range(len(create) - successes):
                self.expectations.creation_observed(key)
            first = first or error
        if first is not None:
            raise first
