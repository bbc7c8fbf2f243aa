"""`ServicePodsController`: the informers, handlers and queue the Endpoints and
EndpointSlice controllers share (Kubernetes' endpoint controllers' `onServiceUpdate`
/ `updatePod` plumbing).

Keys are Service keys (`namespace/name`). A Service event queues its key. A pod event
queues every Service of the pod's namespace whose selector matches the pod's new or
old labels — for an update only when something its endpoint depends on changed
(`podutil.endpoint_relevant`). Subclasses implement `sync(key)` and may add
informers (`extra_informers`) that `run()` waits for, and act once they have synced
(`startup_keys`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from kybernetes.client import (
    APIClient,
    Clock,
    DeletedFinalStateUnknown,
    Informer,
    SharedInformerFactory,
    WorkQueue,
)
from kybernetes.client.resource import PODS, SERVICES

from ..base import Workers, enqueue_keys, enqueue_selecting, event_object, run_queues
from .podutil import endpoint_relevant, service_selector

Obj = dict[str, Any]


class ServicePodsController(ABC):
    """Services and pods feeding a queue of Service keys (see module docstring)."""

    def __init__(
        self, client: APIClient, factory: SharedInformerFactory, *, clock: Clock, workers: int
    ) -> None:
        self.client = client
        self.workers = workers
        self._clock = clock
        self.services = factory.informer(SERVICES)
        self.pods = factory.informer(PODS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.services, self.queue)
        self.pods.add_handler(self._pod_added, self._pod_updated, self._pod_deleted)

    def extra_informers(self) -> list[Informer]:
        return []

    def startup_keys(self) -> list[str]:
        """Keys to queue once the caches have synced, besides those of the events."""
        return []

    async def run(self) -> None:
        def queue_startup_keys() -> None:
            for key in self.startup_keys():
                self.queue.add(key)

        await run_queues(
            [self.services, self.pods, *self.extra_informers()],
            Workers(self.queue, self.sync, self.workers),
            on_synced=queue_startup_keys,
        )

    @abstractmethod
    async def sync(self, key: str) -> None:
        """Reconciles the endpoints of the Service `key`; raises to be retried."""

    def _enqueue_services_of(self, pod: Obj) -> None:
        enqueue_selecting(self.queue, self.services, pod, service_selector)

    def _pod_added(self, pod: Obj) -> None:
        self._enqueue_services_of(pod)

    def _pod_updated(self, old: Obj, new: Obj) -> None:
        if endpoint_relevant(old) == endpoint_relevant(new):
            return
        self._enqueue_services_of(new)
        if old["metadata"].get("labels") != new["metadata"].get("labels"):
            self._enqueue_services_of(old)

    def _pod_deleted(self, pod: Obj | DeletedFinalStateUnknown) -> None:
        self._enqueue_services_of(event_object(pod))
