"""`JobController`: runs batch/v1 Jobs' pods to completion, as Kubernetes'
`pkg/controller/job` (1.32, finalizer-tracked accounting) does.

Handlers only enqueue. Job events enqueue the Job. Pod events go to the controlling
Job (reporting observed creations/deletions to the expectations, and finalizer
removals to `removed_finalizers`), or, for orphans, to every Job whose selector
matches (it may adopt them). A pod holding the `batch.kubernetes.io/job-tracking`
finalizer whose Job is gone or finished goes to the orphan queue, whose sync removes
the finalizer (after re-checking the cache), so such pods can be deleted.

`sync(key)` re-reads the Job: gone - forget its expectations and back-off; finished -
nothing (its pods' finalizers were released before it finished); else claim the
namespace's pods and run one `JobSync` (see `sync.py`). Pod writes are counted by
`ControllerExpectations`, and the Job is not managed while creations, deletions or
finalizer removals it made have not been observed.
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
from kybernetes.client.resource import JOBS, PODS

from ..base import (
    Workers,
    controller_key,
    enqueue_keys,
    enqueue_selecting,
    event_object,
    owner_selector,
    run_queues,
)
from ..expectations import ControllerExpectations
from ..replicaset.claim import claim
from ..replicaset.pods import controller_ref
from .sync import FINALIZER_PATCH, JobSync
from .util import BackoffRecord, has_finalizer, is_finished

log = logging.getLogger(__name__)

Obj = dict[str, Any]


class JobController:
    """See the module docstring. `run()` waits for the caches, then runs `workers`
    Job workers and one orphan-pod worker until cancelled."""

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
        self.jobs = factory.informer(JOBS)
        self.pods = factory.informer(PODS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.orphans: WorkQueue[str] = WorkQueue(clock=clock)
        self.expectations = ControllerExpectations(clock)
        self.removed_finalizers: dict[str, set[str]] = {}
        self.backoff: dict[str, BackoffRecord] = {}
        enqueue_keys(self.jobs, self.queue)
        self.jobs.add_handler(on_delete=self._job_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    async def run(self) -> None:
        await run_queues(
            [self.jobs, self.pods],
            Workers(self.queue, self.sync, self.workers),
            Workers(self.orphans, self.sync_orphan, 1),
        )

    # --- handlers: enqueue only -------------------------------------------------------

    def _job_deleted(self, job: Obj | DeletedFinalStateUnknown) -> None:
        obj = event_object(job)
        for pod in self.pods.indexer.by_index(BY_NAMESPACE, obj["metadata"]["namespace"]):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") == obj["metadata"].get("uid"):
                self._maybe_orphan(pod)

    def _job_key(self, pod: Obj) -> str | None:
        """The key of the cached Job controlling `pod`, if any."""
        return controller_key(self.jobs, pod, "Job")

    def _maybe_orphan(self, pod: Obj) -> None:
        if not has_finalizer(pod):
            return
        key = self._job_key(pod)
        job = self.jobs.indexer.get(key) if key else None
        if job is None or is_finished(job):
            self.orphans.add(object_key(pod))

    def _enqueue_matching(self, pod: Obj) -> None:
        enqueue_selecting(self.queue, self.jobs, pod, owner_selector)

    def _pod_added(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._observe_deletion(pod)
        key = self._job_key(pod)
        if key is not None:
            if not pod["metadata"].get("deletionTimestamp"):
                self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            self._enqueue_matching(pod)
        self._maybe_orphan(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if new["metadata"].get("deletionTimestamp"):
            self._observe_deletion(new)
        if not has_finalizer(new):
            self._observe_release(new)
        old_key, key = self._job_key(old), self._job_key(new)
        if old_key is not None and old_key != key:
            self.queue.add(old_key)
        if key is not None:
            self.queue.add(key)
        elif controller_ref(new) is None:
            self._enqueue_matching(new)
        self._maybe_orphan(new)

    def _pod_deleted(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        obj = event_object(pod)
        self._observe_deletion(obj)
        self._observe_release(obj)
        key = self._job_key(obj)
        if key is not None:
            self.queue.add(key)

    def _observe_deletion(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))

    def _observe_release(self, pod: Obj) -> None:
        key = self._job_key(pod)
        if key is not None:
            self.removed_finalizers.get(key, set()).discard(pod["metadata"]["uid"])

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one Job (see module docstring); raises to be retried."""
        namespace, _ = split_key(key)
        job = self.jobs.indexer.get(key)
        if job is None:
            self.expectations.delete(key)
            self.removed_finalizers.pop(key, None)
            self.backoff.pop(key, None)
            return
        if is_finished(job):
            self.backoff.pop(key, None)
            return
        try:
            selector = label_selector_as_selector((job.get("spec") or {}).get("selector"))
        except SelectorError as e:
            log.warning("job %s has an invalid selector: %s", key, e)
            return
        satisfied = self.expectations.satisfied(key) and not self.removed_finalizers.get(key)
        candidates = self.pods.indexer.by_index(BY_NAMESPACE, namespace)
        pods = await claim(self.client, JOBS, PODS, job, selector, candidates)
        await JobSync(self, job, pods, satisfied).run()

    async def sync_orphan(self, key: str) -> None:
        """Removes the tracking finalizer of a pod whose Job is gone or finished."""
        pod = self.pods.indexer.get(key)
        if pod is None or not has_finalizer(pod):
            return
        job_key = self._job_key(pod)
        job = self.jobs.indexer.get(job_key) if job_key else None
        if job is not None and not is_finished(job):
            return
        namespace, name = split_key(key)
        try:
            await self.client.patch(
                PODS, name, FINALIZER_PATCH, namespace=namespace, patch_type="strategic"
            )
        except APIError as e:
            if not is_not_found(e):
                raise
