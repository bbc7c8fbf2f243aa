"""`ResourceQuotaController`: keeps every ResourceQuota's `status.hard` (a mirror of
`spec.hard`) and `status.used` current — Kubernetes' `pkg/controller/resourcequota`
(usage only: enforcing quotas at admission is the API server's job).

`sync(key)` recomputes, for every resource name in `spec.hard`, the namespace's
usage from the informer caches (`usage`): pods (charged only while not terminal and
not past their deletion grace period, and only when they match the quota's scopes),
Services, PersistentVolumeClaims, and object counts (`count/<plural>[.<group>]` and
the legacy `configmaps`, `secrets`, `replicationcontrollers`, `resourcequotas`) of
any built-in resource, whose informers are started on first need (the sync waits,
requeued, until they have synced). Names no evaluator knows are left out of `used`.
The status is written only when it changed (quantities compared by value). Every
quota is recomputed when an object of its namespace it may charge changes, and at
least every `resync_period` seconds (--resource-quota-sync-period, 5 min).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from kybernetes.api.quantity import Quantity, QuantityError, quantity_from_json
from kybernetes.api.resources import ResourceTable
from kybernetes.client import (
    BY_NAMESPACE,
    APIClient,
    Clock,
    Informer,
    Resource,
    SharedInformerFactory,
    WorkQueue,
    object_key,
)
from kybernetes.client.resource import (
    PERSISTENTVOLUMECLAIMS,
    PODS,
    RESOURCEQUOTAS,
    SERVICES,
)

from ..base import Workers, enqueue_related, run_queues
from .usage import (
    Usage,
    claim_usage,
    is_claim_resource,
    is_pod_resource,
    is_service_resource,
    pod_counts,
    pod_matches_scopes,
    pod_usage,
    service_usage,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]

_LEGACY = {"configmaps", "secrets", "replicationcontrollers", "resourcequotas"}


class ResourceQuotaController:
    """See the module docstring."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock,
        workers: int = 5,
        resync_period: float = 300.0,
    ) -> None:
        self.client = client
        self.workers = workers
        self.resync_period = resync_period
        self._clock = clock
        self._factory = factory
        self._table = ResourceTable.builtin()
        self.quotas = factory.informer(RESOURCEQUOTAS)
        self.queue: WorkQueue[str] = WorkQueue(clock=clock)
        self.quotas.add_handler(lambda q: self.queue.add(object_key(q)), self._quota_updated)
        self.pods = self._watched(PODS)
        self.services = self._watched(SERVICES)
        self.claims = self._watched(PERSISTENTVOLUMECLAIMS)
        self._counted: dict[Resource, Informer] = {}

    async def run(self) -> None:
        informers = [self.quotas, self.pods, self.services, self.claims]
        await run_queues(informers, Workers(self.queue, self.sync, self.workers))

    def _quota_updated(self, old: Obj, new: Obj) -> None:
        if old.get("spec") != new.get("spec") or (new.get("status") or {}).get("hard") != (
            new.get("spec") or {}
        ).get("hard"):
            self.queue.add(object_key(new))

    def _watched(self, resource: Resource) -> Informer:
        """The resource's informer, its changes requeueing the namespace's quotas."""
        informer = self._factory.informer(resource)
        enqueue_related(informer, self.queue, self._quotas_charged)
        return informer

    def _quotas_charged(self, obj: Obj) -> list[str]:
        """The keys of the quotas of `obj`'s namespace."""
        namespace = (obj.get("metadata") or {}).get("namespace") or ""
        return self.quotas.indexer.index_keys(BY_NAMESPACE, namespace)

    def _resource_of(self, name: str) -> Resource | None:
        """The built-in resource an object-count name counts, if any."""
        if name in _LEGACY:
            plural, group = name, ""
        elif name.startswith("count/"):
            plural, _, group = name.removeprefix("count/").partition(".")
        else:
            return None
        version = self._table.preferred_version(group)
        info = self._table.get(group, version, plural) if version else None
        return Resource.of(info) if info is not None and info.namespaced else None

    async def sync(self, key: str) -> None:
        """Recomputes and writes one quota's status (module docstring)."""
        quota = self.quotas.indexer.get(key)
        if quota is None:
            return
        namespace = quota["metadata"].get("namespace") or ""
        hard: dict[str, Any] = dict((quota.get("spec") or {}).get("hard") or {})
        now = self._clock.wall()
        used: Usage = {}

        def total(names: list[str], objects: Iterable[Obj], charge: Callable[[Obj], Usage]) -> None:
            sums = {name: Quantity() for name in names}
            for obj in objects:
                for name, value in charge(obj).items():
                    if name in sums:
                        sums[name] = sums[name] + value
            used.update(sums)

        if names := [n for n in hard if is_pod_resource(n)]:
            pods = [
                p
                for p in self.pods.indexer.by_index(BY_NAMESPACE, namespace)
                if pod_counts(p, now) and pod_matches_scopes(quota, p)
            ]
            total(names, pods, pod_usage)
        if names := [n for n in hard if is_service_resource(n)]:
            total(names, self.services.indexer.by_index(BY_NAMESPACE, namespace), service_usage)
        if names := [n for n in hard if is_claim_resource(n)]:
            total(names, self.claims.indexer.by_index(BY_NAMESPACE, namespace), claim_usage)
        waiting = False
        for name in hard:
            if name in used or (resource := self._resource_of(name)) is None:
                continue
            informer = self._counted.get(resource)
            if informer is None:
                informer = self._counted[resource] = self._watched(resource)
            if not informer.has_synced.is_set():
                waiting = True
                continue
            used[name] = Quantity(len(informer.indexer.index_keys(BY_NAMESPACE, namespace)))
        self.queue.add_after(key, 1.0 if waiting else self.resync_period)
        if waiting:
            return
        status = {"hard": hard, "used": {name: str(value) for name, value in used.items()}}
        if not _same_status(quota.get("status") or {}, status):
            await self.client.update_status(RESOURCEQUOTAS, {**quota, "status": status})


def _same_status(old: Obj, new: Obj) -> bool:
    """Whether two quota statuses are equal, quantities compared by value."""

    def values(status: Obj, field: str) -> dict[str, Quantity | None]:
        result: dict[str, Quantity | None] = {}
        for name, text in (status.get(field) or {}).items():
            try:
                result[name] = quantity_from_json(text)
            except QuantityError:
                result[name] = None
        return result

    return all(values(old, f) == values(new, f) for f in ("hard", "used"))
