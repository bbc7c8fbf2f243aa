"""`DeploymentController`: rolls out Deployments through ReplicaSets, one per pod
template, as Kubernetes' `pkg/controller/deployment` does.

Handlers only enqueue `namespace/name` keys of Deployments: their own events,
ReplicaSet events (to the controlling Deployment, or for orphans to every
Deployment whose selector matches, which may adopt them) and pod deletions of
Recreate Deployments (which wait for old pods to be gone). `sync(key)` re-reads the
Deployment from the cache and:

1. Refuses an empty selector (a Warning `SelectingAll` event; only
   observedGeneration is written).
2. Claims ReplicaSets (adopt matching orphans, release non-matching ones).
3. Being deleted: only status. Paused: sets Progressing Unknown/`DeploymentPaused`
   (`DeploymentResumed` on resume), scales without rolling, cleans up history.
4. A timed-out rollout (ProgressDeadlineExceeded) keeps rolling, and stays marked.
5. A scaling event (an active set's `desired-replicas` differs from `replicas`):
   proportional scaling only. Otherwise one step of RollingUpdate or Recreate.
6. Requeues itself for the moment the progress deadline would pass.

Rollback needs nothing here: `kubectl rollout undo` writes an old template back,
whose ReplicaSet becomes the new one (with the next revision); `rollout restart`
changes a template annotation, so a new ReplicaSet rolls out.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.api.selectors import SelectorError, label_selector_as_selector
from kybernetes.client import (
    BY_NAMESPACE,
    BY_OWNER,
    APIClient,
    Clock,
    DeletedFinalStateUnknown,
    EventRecorder,
    SharedInformerFactory,
    WorkQueue,
    split_key,
)
from kybernetes.client.resource import DEPLOYMENTS, PODS, REPLICASETS

from ..base import (
    Workers,
    controller_key,
    controller_ref,
    enqueue_keys,
    enqueue_selecting,
    event_object,
    owner_selector,
    run_queues,
)
from ..replicaset.claim import claim
from .progress import PAUSED, RESUMED, requeue_after
from .recreate import rollout_recreate
from .rolling import rollout_rolling
from .sync import Rollout
from .util import (
    DESIRED_REPLICAS,
    PROGRESSING,
    active,
    annotation_int,
    get_condition,
    is_rolling,
    new_condition,
    progress_deadline,
    replicas,
    set_condition,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class DeploymentController:
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
        self.workers = workers
        self._clock = clock
        self.deployments = factory.informer(DEPLOYMENTS)
        self.replica_sets = factory.informer(REPLICASETS)
        self.pods = factory.informer(PODS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.deployments, self.queue)
        self.replica_sets.add_handler(self._rs_added, self._rs_updated, self._rs_deleted)
        self.pods.add_handler(on_delete=self._pod_deleted)

    async def run(self) -> None:
        informers = [self.deployments, self.replica_sets, self.pods]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    # --- handlers: enqueue only -------------------------------------------------------

    def _owner_key(self, obj: Obj, kind: str) -> str | None:
        informer = self.deployments if kind == "Deployment" else self.replica_sets
        return controller_key(informer, obj, kind)

    def _rs_added(self, rs: Obj) -> None:
        key = self._owner_key(rs, "Deployment")
        if key is not None:
            self.queue.add(key)
        elif controller_ref(rs) is None:
            enqueue_selecting(self.queue, self.deployments, rs, owner_selector)

    def _rs_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if controller_ref(old) != controller_ref(new):
            old_key = self._owner_key(old, "Deployment")
            if old_key is not None:
                self.queue.add(old_key)
        self._rs_added(new)

    def _rs_deleted(self, rs: Obj | DeletedFinalStateUnknown) -> None:
        key = self._owner_key(event_object(rs), "Deployment")
        if key is not None:
            self.queue.add(key)

    def _pod_deleted(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        rs_key = self._owner_key(event_object(pod), "ReplicaSet")
        rs = self.replica_sets.indexer.get(rs_key) if rs_key else None
        key = self._owner_key(rs, "Deployment") if rs is not None else None
        d = self.deployments.indexer.get(key) if key else None
        if d is not None and key is not None and not is_rolling(d):
            self.queue.add(key)

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one Deployment (see module docstring); raises to be retried."""
        namespace, _ = split_key(key)
        d = self.deployments.indexer.get(key)
        if d is None:
            return
        now = self._clock.wall()
        try:
            selector = label_selector_as_selector(d["spec"].get("selector"))
        except SelectorError as e:
            log.warning("deployment %s has an invalid selector: %s", key, e)
            return
        meta = d["metadata"]
        if selector.empty:
            message = "This deployment is selecting all pods. A non-empty selector is required."
            self.recorder.event(d, "Warning", "SelectingAll", message)
            generation = meta.get("generation") or 0
            if (d.get("status") or {}).get("observedGeneration") != generation:
                status = {**(d.get("status") or {}), "observedGeneration": generation}
                await self.client.update_status(DEPLOYMENTS, {**d, "status": status})
            return
        candidates = self.replica_sets.indexer.by_index(BY_NAMESPACE, namespace)
        sets = await claim(self.client, DEPLOYMENTS, REPLICASETS, d, selector, candidates)
        rollout = Rollout(self.client, self.recorder, now, d, sets)
        if meta.get("deletionTimestamp"):
            new_rs, old = await rollout.new_and_old(create=False)
            await rollout.finish(new_rs, old, rolling=False)
            return
        self._check_paused(rollout)
        if d["spec"].get("paused"):
            await self._sync_scaling(rollout, cleanup=True)
        elif self._is_scaling_event(rollout):
            await self._sync_scaling(rollout, cleanup=False)
        elif is_rolling(d):
            await rollout_rolling(rollout)
        else:
            await rollout_recreate(rollout, self._pods_of)
        after = requeue_after(rollout.d, rollout.status, self._clock.wall())
        if after is not None:
            self.queue.add_after(key, after)

    def _pods_of(self, rs: Obj) -> list[Obj]:
        return self.pods.indexer.by_index(BY_OWNER, rs["metadata"]["uid"])

    def _check_paused(self, rollout: Rollout) -> None:
        d = rollout.d
        if progress_deadline(d) is None:
            return
        condition = get_condition(d["status"], PROGRESSING)
        if condition is not None and condition.get("reason") == "ProgressDeadlineExceeded":
            return
        paused_marked = condition is not None and condition.get("reason") == PAUSED
        if d["spec"].get("paused") and not paused_marked:
            message = "Deployment is paused"
            set_condition(
                d["status"], new_condition(PROGRESSING, "Unknown", PAUSED, message, rollout.now)
            )
        elif not d["spec"].get("paused") and paused_marked:
            message = "Deployment is resumed"
            set_condition(
                d["status"], new_condition(PROGRESSING, "Unknown", RESUMED, message, rollout.now)
            )

    def _is_scaling_event(self, rollout: Rollout) -> bool:
        desired = replicas(rollout.d)
        for rs in active(rollout.sets):
            wanted = annotation_int(rs, DESIRED_REPLICAS)
            if wanted is not None and wanted != desired:
                return True
        return False

    async def _sync_scaling(self, rollout: Rollout, *, cleanup: bool) -> None:
        new_rs, old = await rollout.new_and_old(create=False)
        await rollout.scale(new_rs, old)
        if cleanup:
            await rollout.cleanup(old)
        await rollout.finish(new_rs, old, rolling=False)
