"""`ServiceAccountController`: every Active namespace has a `default` ServiceAccount
(Kubernetes' serviceaccounts controller).

Handlers only enqueue namespace names: a namespace added or changed, a ServiceAccount
named `default` deleted (its namespace). `sync(name)` re-reads the caches and creates
`default` when the namespace is Active (not being deleted) and the ServiceAccount
cache lacks it.

Idempotency: AlreadyExists (the cache lagged), NotFound (the namespace went) and
Forbidden (the namespace started terminating) answers are success. Other errors
propagate so `run_workers` retries with backoff. Concurrency: one event loop; the
work queue never syncs one namespace twice at once.
"""

from __future__ import annotations

import logging
from typing import Any

from kybernetes.client import (
    APIClient,
    Clock,
    DeletedFinalStateUnknown,
    SharedInformerFactory,
    WorkQueue,
    is_already_exists,
    is_forbidden,
    is_not_found,
)
from kybernetes.client.resource import NAMESPACES, SERVICEACCOUNTS

from ..base import Workers, enqueue_keys, event_object, run_queues

log = logging.getLogger(__name__)

Obj = dict[str, Any]

DEFAULT = "default"


class ServiceAccountController:
    """Ensures the `default` ServiceAccount of every Active namespace."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock | None = None,
        workers: int = 2,
    ) -> None:
        self.client = client
        self.workers = workers
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.namespaces = factory.informer(NAMESPACES)
        self.service_accounts = factory.informer(SERVICEACCOUNTS)
        enqueue_keys(self.namespaces, self.queue, deletes=False)
        self.service_accounts.add_handler(on_delete=self._service_account_deleted)

    async def run(self) -> None:
        """Syncs namespaces until cancelled (the factory's informers run elsewhere)."""
        await run_queues((), Workers(self.queue, self.sync, self.workers))

    def _service_account_deleted(self, obj: Obj | DeletedFinalStateUnknown) -> None:
        meta = event_object(obj).get("metadata") or {}
        if meta.get("name") == DEFAULT and meta.get("namespace"):
            self.queue.add(meta["namespace"])

    async def sync(self, name: str) -> None:
        """Creates `name`'s default ServiceAccount if it is Active and lacks one."""
        namespace = self.namespaces.indexer.get(name)
        if namespace is None or namespace["metadata"].get("deletionTimestamp"):
            return
        if (namespace.get("status") or {}).get("phase", "Active") != "Active":
            return
        if self.service_accounts.indexer.get_by_name(name, DEFAULT) is not None:
            return
        log.info("creating the default ServiceAccount of namespace %s", name)
        try:
            await self.client.create(
                SERVICEACCOUNTS, {"metadata": {"name": DEFAULT, "namespace": name}}
            )
        except Exception as e:
            if not (is_already_exists(e) or is_not_found(e) or is_forbidden(e)):
                raise
