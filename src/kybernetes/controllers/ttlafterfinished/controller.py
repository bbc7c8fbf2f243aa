"""`TTLAfterFinishedController`: Kubernetes' `pkg/controller/ttlafterfinished`.

A Job with `spec.ttlSecondsAfterFinished` set that has finished (a True Complete or
Failed condition) is deleted, with its pods (Foreground propagation), once that many
seconds passed since it finished (the condition's lastTransitionTime). Handlers
enqueue only Jobs that have a TTL and are finished and not being deleted; `sync(key)`
requeues a Job for the moment its TTL expires. Before deleting, it re-reads the Job
from the API (the cache may be stale: the TTL may have been changed or removed) and
deletes with a uid precondition, so a recreated Job of the same name is never hit.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kybernetes.client import (
    APIClient,
    APIError,
    Clock,
    SharedInformerFactory,
    WorkQueue,
    is_not_found,
    split_key,
)
from kybernetes.client.resource import JOBS

from ..base import Workers, enqueue_keys, run_queues
from ..job.util import finished_time, is_finished

Obj = dict[str, Any]


def needs_cleanup(job: Obj) -> bool:
    """Finished, with a TTL, and not already being deleted."""
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    return ttl is not None and is_finished(job) and not job["metadata"].get("deletionTimestamp")


class TTLAfterFinishedController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        workers: int = 5,
    ) -> None:
        self.client = client
        self.clock = clock
        self.workers = workers
        self.jobs = factory.informer(JOBS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        enqueue_keys(self.jobs, self.queue, when=needs_cleanup, deletes=False)

    async def run(self) -> None:
        await run_queues([self.jobs], Workers(self.queue, self.sync, self.workers))

    def _time_left(self, job: Obj) -> float | None:
        """Seconds until the Job expires (<= 0: expired); None if it never does."""
        if not needs_cleanup(job):
            return None
        finished = finished_time(job)
        if finished is None:
            return None
        ttl = int(job["spec"]["ttlSecondsAfterFinished"])
        return (finished + timedelta(seconds=ttl) - self.clock.wall()).total_seconds()

    async def sync(self, key: str) -> None:
        """Deletes the Job if expired (checked again on a fresh read), else requeues it
        for its expiry. Raises on API errors (retried)."""
        job = self.jobs.indexer.get(key)
        if job is None:
            return
        left = self._time_left(job)
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left)
            return
        namespace, name = split_key(key)
        try:
            fresh = await self.client.get(JOBS, name, namespace)
        except APIError as e:
            if is_not_found(e):
                return
            raise
        left = self._time_left(fresh)
        if left is None:
            return
        if left > 0:
            self.queue.add_after(key, left)
            return
        try:
            await self.client.delete(
                JOBS,
                name,
                namespace,
                propagation_policy="Foreground",
                preconditions={"uid": fresh["metadata"]["uid"]},
            )
        except APIError as e:
            if not is_not_found(e):
                raise
