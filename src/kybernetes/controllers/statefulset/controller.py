"""`StatefulSetController`: ordered pods with stable identities, as Kubernetes'
`pkg/controller/statefulset` does.

Handlers only enqueue StatefulSet keys: their own events, pod events (the
controlling set; orphans to every set whose selector matches) and ControllerRevision
events (the controlling set). `sync(key)` re-reads the set and:

1. claims its ControllerRevisions and ensures the update revision (the current
   template; a hash collision bumps `status.collisionCount` and retries); the current
   revision is the one `status.currentRevision` names (else the update revision);
2. claims its pods - members only: named `SET-<ordinal>` and matching the selector;
3. takes one step (`update.Step`, OrderedReady or Parallel, RollingUpdate by
   partition or OnDelete) and writes the resulting status if it changed, the update
   revision becoming current once the rollout is complete;
4. deletes revisions beyond `revisionHistoryLimit` that neither a pod nor the status
   uses; requeues after `minReadySeconds` while ready pods wait to be available.

PersistentVolumeClaims from `volumeClaimTemplates` are created before their pods;
`persistentVolumeClaimRetentionPolicy` Delete gives them ownerReferences (to the set
when it is deleted, to a condemned pod when scaled down) and the garbage collector
deletes them; ownerReferences are only added, at claim creation and scale-down, never
removed on a later policy change. Nothing here binds claims to volumes.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.api.selectors import SelectorError, label_selector_as_selector
from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    split_key,
)
from kybernetes.client.resource import CONTROLLERREVISIONS, PODS, STATEFULSETS

from ..base import (
    Workers,
    controller_key,
    enqueue_keys,
    enqueue_related,
    enqueue_selecting,
    event_object,
    owner_selector,
    run_queues,
)
from ..history import HashCollision, History
from ..replicaset.claim import claim
from ..replicaset.pods import controller_ref
from .identity import ordinal_of, revision_of
from .update import Step

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class StatefulSetController:
    """See the module docstring. `run()` waits for the caches, then runs `workers`
    sync workers until cancelled."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        recorder: EventRecorder,
        *,
        clock: Clock,
        workers: int = 5,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.clock = clock
        self.workers = workers
        self.sets = factory.informer(STATEFULSETS)
        self.pods = factory.informer(PODS)
        self.revisions = factory.informer(CONTROLLERREVISIONS)
        self.history = History(client, self.revisions, STATEFULSETS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.sets, self.queue)
        self.pods.add_handler(self._owned_or_matching, self._pod_updated, self._owned)
        enqueue_related(self.revisions, self.queue, self._owner_keys)

    async def run(self) -> None:
        informers = [self.sets, self.pods, self.revisions]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    # --- handlers: enqueue only -------------------------------------------------------

    def _owner_keys(self, obj: Obj) -> list[str]:
        key = controller_key(self.sets, obj, "StatefulSet")
        return [] if key is None else [key]

    def _owned(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        for key in self._owner_keys(event_object(obj)):
            self.queue.add(key)

    def _owned_or_matching(self, pod: Obj) -> None:
        if controller_ref(pod) is not None:
            self._owned(pod)
        else:
            enqueue_selecting(self.queue, self.sets, pod, owner_selector)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if controller_ref(old) != controller_ref(new):
            self._owned(old)
        self._owned_or_matching(new)

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one StatefulSet (see module docstring); raises to be retried."""
        namespace, _ = split_key(key)
        sts = self.sets.indexer.get(key)
        if sts is None:
            return
        try:
            selector = label_selector_as_selector((sts.get("spec") or {}).get("selector"))
        except SelectorError as e:
            log.warning("statefulset %s has an invalid selector: %s", key, e)
            return
        revisions = await self.history.claim(sts, selector)
        try:
            update = await self.history.ensure(sts, revisions)
        except HashCollision as e:
            status = {**(sts.get("status") or {}), "collisionCount": e.collision_count}
            await self.client.update_status(STATEFULSETS, {**sts, "status": status})
            raise
        named = (sts.get("status") or {}).get("currentRevision")
        current = next((r for r in revisions if r["metadata"]["name"] == named), update)
        candidates = [
            p
            for p in self.pods.indexer.by_index(BY_NAMESPACE, namespace)
            if ordinal_of(sts, p) >= 0
        ]
        pods = await claim(self.client, STATEFULSETS, PODS, sts, selector, candidates)
        status = await Step(self, sts, pods, current, update).run()
        strategy = ((sts.get("spec") or {}).get("updateStrategy") or {}).get("type")
        complete = status["updatedReplicas"] == status["replicas"] == status["readyReplicas"]
        if (strategy or "RollingUpdate") == "RollingUpdate" and complete:
            status["currentReplicas"] = status["updatedReplicas"]
            status["currentRevision"] = status["updateRevision"]
        old = sts.get("status") or {}
        if any(old.get(k, 0 if isinstance(v, int) else None) != v for k, v in status.items()):
            await self.client.update_status(STATEFULSETS, {**sts, "status": {**old, **status}})
        live = {revision_of(p) for p in pods} | {
            status["currentRevision"],
            status["updateRevision"],
        }
        limit = int((sts.get("spec") or {}).get("revisionHistoryLimit", 10))
        await self.history.truncate(revisions, live, limit)
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["readyReplicas"] != status["availableReplicas"]:
            self.queue.add_after(key, min_ready)
