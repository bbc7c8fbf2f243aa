"""`NamespaceController`: empties a namespace being deleted, then finalizes it
(Kubernetes' namespace deletion controller).

Handlers only enqueue the names of namespaces with a `deletionTimestamp`. `sync(name)`
re-reads the namespace from the cache and, if it is being deleted and
`spec.finalizers` still holds `kubernetes`:
1. lists every namespaced resource of the `Catalog` (built-ins plus CRDs' resources)
   in the namespace and deletes each object not yet being deleted (Background);
2. writes the deletion conditions to the namespace's status (only when they change):
   `NamespaceDeletionDiscoveryFailure`, `NamespaceDeletionContentFailure`,
   `NamespaceContentRemaining` ("Some resources are remaining: configmaps. has 2
   resource instances") and `NamespaceFinalizersRemaining`;
3. if objects remain (graceful deletions, finalizers), queues the namespace again
   after `requeue_delay` seconds; otherwise PUTs `namespaces/NAME/finalize` without
   `kubernetes`, after which the API server deletes the namespace.

Idempotency: every pass recomputes from live lists; deleting what is already gone is
harmless. A failed list or delete is reported in the conditions and fails the sync,
so `run_workers` retries it with backoff. Concurrency: one event loop; the work queue
never syncs one namespace twice at once.
"""

from __future__ import annotations

import copy
import logging
from collections import Counter
from typing import Any

from kybernetes.client import (
    APIClient,
    Clock,
    Resource,
    SharedInformerFactory,
    SystemClock,
    WorkQueue,
    is_not_found,
)
from kybernetes.client.resource import CUSTOMRESOURCEDEFINITIONS, NAMESPACES

from ..base import Workers, enqueue_keys, run_queues
from ..garbagecollector.catalog import Catalog

log = logging.getLogger(__name__)

Obj = dict[str, Any]

FINALIZER = "kubernetes"


class NamespaceController:
    """Deletes namespaces' content and finalizes them (see module docstring)."""

    def __init__(
        self,
        client: APIClient,
        factory: SharedInformerFactory,
        *,
        clock: Clock | None = None,
        workers: int = 2,
        requeue_delay: float = 2.0,
        catalog: Catalog | None = None,
    ) -> None:
        self.client = client
        self.workers = workers
        self.requeue_delay = requeue_delay
        self.catalog = catalog or Catalog()
        self.clock = clock or SystemClock()
        self.queue: WorkQueue[str] = WorkQueue(clock=self.clock)
        self.namespaces = factory.informer(NAMESPACES)
        enqueue_keys(self.namespaces, self.queue, when=_terminating, deletes=False)
        crds = factory.informer(CUSTOMRESOURCEDEFINITIONS)
        crds.add_handler(on_add=self._crd_added, on_update=lambda _, new: self._crd_added(new))

    async def run(self) -> None:
        """Syncs namespaces until cancelled (the factory's informers run elsewhere)."""
        await run_queues((), Workers(self.queue, self.sync, self.workers))

    def _crd_added(self, crd: Obj) -> None:
        self.catalog.add_crd(crd)

    async def sync(self, name: str) -> None:
        """One deletion pass over namespace `name` (see module docstring)."""
        namespace = self.namespaces.indexer.get(name)
        if namespace is None or not namespace["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((namespace.get("spec") or {}).get("finalizers") or []):
            return
        remaining: Counter[str] = Counter()
        finalizers: Counter[str] = Counter()
        failures: list[str] = []
        for resource in self.catalog.namespaced():
            try:
                items = (await self.client.list(resource, name)).get("items") or []
                for obj in items:
                    meta = obj.get("metadata") or {}
                    if not meta.get("deletionTimestamp"):
                        await self._delete(resource, name, meta)
                    remaining[_group_resource(resource)] += 1
                    finalizers.update(meta.get("finalizers") or ())
            except Exception as e:
                if is_not_found(e):  # a CRD's resource that went away meanwhile
                    continue
                failures.append(f"{_group_resource(resource)}: {e}")
        await self._write_conditions(namespace, remaining, finalizers, failures)
        if failures:
            raise RuntimeError(f"namespace {name}: deleting content failed: {failures}")
        if remaining:
            self.queue.add_after(name, self.requeue_delay)
            return
        await self._finalize(namespace)

    async def _delete(self, resource: Resource, namespace: str, meta: Obj) -> None:
        try:
            await self.client.delete(
                resource,
                meta["name"],
                namespace,
                propagation_policy="Background",
                preconditions={"uid": meta["uid"]},
            )
        except Exception as e:
            if not is_not_found(e):
                raise

    async def _write_conditions(
        self,
        namespace: Obj,
        remaining: Counter[str],
        finalizers: Counter[str],
        failures: list[str],
    ) -> None:
        wanted = _conditions(remaining, finalizers, failures)
        status = namespace.get("status") or {}
        old = {c["type"]: c for c in status.get("conditions") or []}
        now = self.clock.wall().strftime("%Y-%m-%dT%H:%M:%SZ")
        conditions = []
        changed = False
        for condition in wanted:
            previous = old.get(condition["type"])
            same = previous is not None and all(
                previous.get(k) == condition[k] for k in ("status", "reason", "message")
            )
            changed |= not same
            transition = previous.get("lastTransitionTime") if previous else None
            if previous is None or previous.get("status") != condition["status"]:
                transition = now
            conditions.append({**condition, "lastTransitionTime": transition or now})
        if not changed:
            return
        updated = copy.deepcopy(namespace)
        updated.setdefault("status", {})["conditions"] = conditions
        try:
            await self.client.update_status(NAMESPACES, updated)
        except Exception as e:
            if not is_not_found(e):
                raise

    async def _finalize(self, namespace: Obj) -> None:
        updated = copy.deepcopy(namespace)
        spec = updated.setdefault("spec", {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or [] if f != FINALIZER]
        log.info("namespace %s is empty: finalizing it", namespace["metadata"]["name"])
        try:
            await self.client.update(NAMESPACES, updated, subresource="finalize")
        except Exception as e:
            if not is_not_found(e):
                raise


def _terminating(namespace: Obj) -> bool:
    return bool((namespace.get("metadata") or {}).get("deletionTimestamp"))


def _group_resource(resource: Resource) -> str:
    return f"{resource.plural}.{resource.group}"


def _conditions(
    remaining: Counter[str], finalizers: Counter[str], failures: list[str]
) -> list[Obj]:
    """The deletion conditions, worded as kube-controller-manager words them."""

    def condition(type_: str, status: bool, reason: str, message: str) -> Obj:
        return {
            "type": type_,
            "status": "True" if status else "False",
            "reason": reason,
            "message": message,
        }

    content = ", ".join(f"{gr} has {n} resource instances" for gr, n in sorted(remaining.items()))
    held = ", ".join(f"{f} in {n} resource instances" for f, n in sorted(finalizers.items()))
    return [
        condition(
            "NamespaceDeletionDiscoveryFailure",
            False,
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        condition(
            "NamespaceDeletionGroupVersionParsingFailure",
            False,
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        condition(
            "NamespaceDeletionContentFailure",
            bool(failures),
            "ContentDeletionFailed" if failures else "ContentDeleted",
            f"Failed to delete all resource types, {len(failures)} remaining: {'; '.join(failures)}"
            if failures
            else "All content successfully deleted, may be waiting on finalization",
        ),
        condition(
            "NamespaceContentRemaining",
            bool(remaining),
            "SomeResourcesRemain" if remaining else "ContentRemoved",
            f"Some resources are remaining: {content}"
            if remaining
            else "All content successfully removed",
        ),
        condition(
            "NamespaceFinalizersRemaining",
            bool(finalizers),
            "SomeFinalizersRemain" if finalizers else "ContentHasNoFinalizers",
            f"Some content in the namespace has finalizers remaining: {held}"
            if finalizers
            else "All content-preserving finalizers finished",
        ),
    ]
