"""`ReplicaSetController`: keeps `spec.replicas` active pods per ReplicaSet (or, with
`kind=REPLICATION_CONTROLLER`, per v1 ReplicationController), as Kubernetes'
`pkg/controller/replicaset` does.

Handlers only enqueue `namespace/name` keys. Pod events go to the owning set (the
controlling ownerReference), or, for orphans, to every set whose selector matches
(it may adopt them); they also report observed creations/deletions to the
`ControllerExpectations`. `sync(key)`:

1. Re-reads the set from the cache (gone: forget its expectations).
2. Claims the namespace's active pods (`claim.claim`: adopt matching orphans,
   release controlled pods that no longer match).
3. If the expectations are satisfied and the set is not being deleted, creates the
   missing pods in slow-start batches (1, 2, 4, ...; at most `burst_replicas` per
   sync; a failure stops the batches) or deletes the surplus, worst-ranked first
   (`pods.deletion_rank`).
4. Writes the status (`status.calculate_status`) if it changed, and requeues after
   `minReadySeconds` when ready pods still wait to become available.

A failed write raises from `sync`, so the key is retried with backoff; expectations
for writes that never happened are lowered first. Writes use resourceVersion
compare-and-swap (Conflict → retry), never blind overwrites.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from kybernetes.api.selectors import (
    NOTHING,
    Selector,
    SelectorError,
    label_selector_as_selector,
    selector_from_set,
)
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
from kybernetes.client.resource import PODS, REPLICASETS, REPLICATIONCONTROLLERS, Resource

from ..base import (
    Workers,
    controller_key,
    controller_ref,
    enqueue_keys,
    enqueue_selecting,
    event_key,
    event_object,
    run_queues,
)
from ..expectations import ControllerExpectations
from .claim import claim
from .pods import (
    deletion_rank,
    is_pod_active,
    is_pod_ready,
    pod_from_template,
)
from .status import calculate_status, status_changed

log = logging.getLogger(__name__)

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ControllerKind:
    """What the controller manages: its resource, Kind and how to read a selector."""

    resource: Resource
    kind: str
    selector: Callable[[Obj], Selector]


def _set_selector(owner: Obj) -> Selector:
    return label_selector_as_selector((owner.get("spec") or {}).get("selector"))


def _map_selector(owner: Obj) -> Selector:
    spec = owner.get("spec") or {}
    labels = spec.get("selector") or ((spec.get("template") or {}).get("metadata") or {}).get(
        "labels"
    )
    return selector_from_set(labels) if labels else NOTHING


REPLICA_SET = ControllerKind(REPLICASETS, "ReplicaSet", _set_selector)
REPLICATION_CONTROLLER = ControllerKind(
    REPLICATIONCONTROLLERS, "ReplicationController", _map_selector
)


class _ManageError(Exception):
    def __init__(self, reason: str, cause: APIError) -> None:
        super().__init__(f"{reason}: {cause}")
        self.reason = reason
        self.cause = cause


class ReplicaSetController:
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
        burst_replicas: int = 500,
        kind: ControllerKind = REPLICA_SET,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.kind = kind
        self.workers = workers
        self.burst_replicas = burst_replicas
        self._clock = clock
        self.owners = factory.informer(kind.resource)
        self.pods = factory.informer(PODS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.expectations = ControllerExpectations(clock)
        enqueue_keys(self.owners, self.queue)
        self.owners.add_handler(on_delete=self._owner_deleted)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    async def run(self) -> None:
        await run_queues([self.owners, self.pods], Workers(self.queue, self.sync, self.workers))

    # --- handlers: enqueue only -------------------------------------------------------

    def _owner_deleted(self, owner: Obj | DeletedFinalStateUnknown) -> None:
        self.expectations.delete(event_key(owner))

    def _owner_key(self, pod: Obj) -> str | None:
        """The key of the cached set controlling `pod`, if any."""
        return controller_key(self.owners, pod, self.kind.kind)

    def _enqueue_matching(self, pod: Obj) -> None:
        enqueue_selecting(self.queue, self.owners, pod, self.kind.selector)

    def _pod_added(self, pod: Obj) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        if controller_ref(pod) is not None:
            key = self._owner_key(pod)
            if key is not None:
                self.expectations.creation_observed(key)
                self.queue.add(key)
            return
        self._enqueue_matching(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        labels_changed = old["metadata"].get("labels") != new["metadata"].get("labels")
        if new["metadata"].get("deletionTimestamp"):
            self._pod_deleted(new)
            if labels_changed:
                self._pod_deleted(old)
            return
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref != new_ref and (old_key := self._owner_key(old)):
            self.queue.add(old_key)
        if new_ref is not None:
            key = self._owner_key(new)
            if key is not None:
                self.queue.add(key)
                owner = self.owners.indexer.get(key) or {}
                min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
                if min_ready > 0 and not is_pod_ready(old) and is_pod_ready(new):
                    self.queue.add_after(key, min_ready)
            return
        if labels_changed or old_ref != new_ref:
            self._enqueue_matching(new)

    def _pod_deleted(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        obj = event_object(pod)
        key = self._owner_key(obj)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(obj))
            self.queue.add(key)

    # --- sync -------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        """Reconciles one set (see module docstring); raises to be retried."""
        namespace, _ = split_key(key)
        owner = self.owners.indexer.get(key)
        if owner is None:
            self.expectations.delete(key)
            return
        try:
            selector = self.kind.selector(owner)
        except SelectorError as e:
            log.warning("%s %s has an invalid selector: %s", self.kind.kind, key, e)
            return
        needs_sync = self.expectations.satisfied(key)
        candidates = self.pods.indexer.by_index(BY_NAMESPACE, namespace)
        active = [p for p in candidates if is_pod_active(p)]
        pods = await claim(self.client, self.kind.resource, PODS, owner, selector, active)
        failure: _ManageError | None = None
        if needs_sync and not owner["metadata"].get("deletionTimestamp"):
            try:
                await self._manage(owner, pods, key)
            except _ManageError as e:
                failure = e
        now = self._clock.wall()
        reason = None if failure is None else (failure.reason, failure.cause.message)
        status = calculate_status(owner, pods, reason, now)
        if status_changed(owner, status):
            updated = {**owner, "status": status}
            await self.client.update_status(self.kind.resource, updated)
        spec = owner.get("spec") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        replicas = int(spec.get("replicas", 1))
        ready_waiting = status["readyReplicas"] == replicas != status["availableReplicas"]
        if failure is None and min_ready > 0 and ready_waiting:
            self.queue.add_after(key, min_ready)
        if failure is not None:
            raise failure.cause

    async def _manage(self, owner: Obj, pods: list[Obj], key: str) -> None:
        replicas = int((owner.get("spec") or {}).get("replicas", 1))
        diff = len(pods) - replicas
        if diff < 0:
            await self._create(owner, min(-diff, self.burst_replicas), key)
        elif diff > 0:
            await self._delete(owner, pods, min(diff, self.burst_replicas), key)

    async def _create(self, owner: Obj, count: int, key: str) -> None:
        template = (owner.get("spec") or {}).get("template") or {}
        self.expectations.expect_creations(key, count)

        async def create_one() -> None:
            pod = pod_from_template(owner, template)
            try:
                created = await self.client.create(PODS, pod)
            except APIError as e:
                self.recorder.event(owner, "Warning", "FailedCreate", f"Error creating: {e}")
                raise
            name = created["metadata"]["name"]
            self.recorder.event(owner, "Normal", "SuccessfulCreate", f"Created pod: {name}")

        successes, error = await slow_start_batch(count, 1, create_one)
        for _ in range(count - successes):
            self.expectations.creation_observed(key)
        if error is not None:
            raise _ManageError("FailedCreate", error)

    async def _delete(self, owner: Obj, pods: list[Obj], count: int, key: str) -> None:
        on_node = Counter(p.get("spec", {}).get("nodeName") for p in pods)
        ranked = sorted(
            pods, key=lambda p: deletion_rank(p, on_node[(p.get("spec") or {}).get("nodeName")])
        )
        victims = ranked[:count]
        self.expectations.expect_deletions(key, [object_key(p) for p in victims])

        async def delete_one(pod: Obj) -> APIError | None:
            meta = pod["metadata"]
            try:
                await self.client.delete(PODS, meta["name"], meta["namespace"])
            except APIError as e:
                if is_not_found(e):
                    return None
                self.expectations.deletion_observed(key, object_key(pod))
                self.recorder.event(owner, "Warning", "FailedDelete", f"Error deleting: {e}")
                return e
            self.recorder.event(owner, "Normal", "SuccessfulDelete", f"Deleted pod: {meta['name']}")
            return None

        errors = await asyncio.gather(*(delete_one(p) for p in victims))
        first = next((e for e in errors if e is not None), None)
        if first is not None:
            raise _ManageError("FailedDelete", first)


async def slow_start_batch(
    count: int, initial: int, write: Callable[[], Awaitable[None]]
) -> tuple[int, APIError | None]:
    """Runs `write` `count` times in concurrent batches of initial, 2 * initial, 4 * initial, ...;
    stops after the first batch with a failure. Answers (successes, first error)."""
    successes, batch = 0, min(initial, count)
    while batch > 0:
        results = await asyncio.gather(*(write() for _ in range(batch)), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        successes += batch - len(errors)
        if errors:
            first = errors[0]
            if not isinstance(first, APIError):
                raise first
            return successes, first
        remaining = count - successes
        batch = min(2 * batch, remaining)
    return successes, None
